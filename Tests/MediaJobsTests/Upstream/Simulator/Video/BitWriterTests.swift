import Testing

@testable import MediaJobs

/// The exp-Golomb and fixed-width fields H.264 headers are made of, bit for bit.
@Suite struct BitWriterTests {
    /// The bits `write` produced, as a string of 0s and 1s.
    static func bits(_ write: (inout BitWriter) -> Void) -> String {
        var writer = BitWriter()
        write(&writer)
        let count = writer.bitCount
        writer.alignWithZeros()
        let all = writer.bytes.map { byte in (0..<8).map { byte >> (7 - $0) & 1 == 1 ? "1" : "0" }.joined() }.joined()
        return String(all.prefix(count))
    }

    @Test(arguments: [
        (UInt32(0), "1"), (1, "010"), (2, "011"), (3, "00100"), (4, "00101"), (6, "00111"), (7, "0001000"),
        (25, "000011010"), (30, "000011111"), (255, "00000000100000000"),
    ])
    func unsignedExpGolomb(value: UInt32, code: String) {
        #expect(Self.bits { $0.write(ue: value) } == code)
    }

    @Test(arguments: [(Int32(0), "1"), (1, "010"), (-1, "011"), (2, "00100"), (-2, "00101"), (3, "00110")])
    func signedExpGolomb(value: Int32, code: String) {
        #expect(Self.bits { $0.write(se: value) } == code)
    }

    @Test func largeExpGolombValuesRoundTrip() {
        for value: UInt32 in [1_000, 65_535, 1 << 20, UInt32.max - 1] {
            var writer = BitWriter()
            writer.write(ue: value)
            writer.writeTrailingBits()
            let reader = TestBitReader(rbsp: writer.bytes)
            #expect(reader.ue() == value)
        }
    }

    @Test func fixedWidthFieldsCrossByteBoundaries() {
        var writer = BitWriter()
        writer.write(0b101, bits: 3)
        writer.write(0x1FF, bits: 9)
        writer.write(0xDEAD_BEEF, bits: 32)
        writer.write(0, bits: 0)
        writer.write(flag: true)
        #expect(writer.bitCount == 45)
        writer.writeTrailingBits()
        // 101 111111111 11011110101011011011111011101111 1 1 then zeros
        #expect(writer.bytes == [0b1011_1111, 0b1111_1101, 0b1110_1010, 0b1101_1011, 0b1110_1110, 0b1111_1100])
    }

    @Test func trailingBitsAndAlignment() {
        var writer = BitWriter()
        writer.writeTrailingBits()
        #expect(writer.bytes == [0x80])
        writer.alignWithZeros()  // already aligned: nothing
        #expect(writer.bytes == [0x80])
        writer.write(0b11, bits: 2)
        #expect(!writer.isByteAligned)
        writer.alignWithZeros()
        writer.append(alignedBytes: [0xAB, 0xCD])
        #expect(writer.bytes == [0x80, 0xC0, 0xAB, 0xCD])
    }

    @Test(arguments: [
        ([UInt8]([0, 0, 0]), [UInt8]([0, 0, 3, 0])),
        ([0, 0, 1], [0, 0, 3, 1]),
        ([0, 0, 2, 0, 0, 3], [0, 0, 3, 2, 0, 0, 3, 3]),
        ([0, 0, 4, 0, 0], [0, 0, 4, 0, 0]),
        ([0, 0, 0, 0], [0, 0, 3, 0, 0]),
        ([0, 1, 0, 0, 0x80], [0, 1, 0, 0, 0x80]),
    ])
    func emulationPreventionBytesKeepStartCodesOut(payload: [UInt8], escaped: [UInt8]) {
        var output: [UInt8] = []
        NALUnit.appendEscaped(payload, to: &output)
        #expect(output == escaped)
    }

    @Test func nalHeadersCarryTypeAndReferenceIDC() {
        #expect(NALUnit(kind: .sequenceParameterSet, payload: [0x80]).bytes == [0x67, 0x80])
        #expect(NALUnit(kind: .pictureParameterSet, payload: [0x80]).bytes == [0x68, 0x80])
        #expect(NALUnit(kind: .idrSlice, payload: [0x80]).bytes == [0x65, 0x80])
        #expect(NALUnit(kind: .slice, referenceIDC: 2, payload: [0x80]).bytes == [0x41, 0x80])
    }
}
