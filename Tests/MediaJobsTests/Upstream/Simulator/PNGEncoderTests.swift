import CZlib
import Testing

@testable import MediaJobs

/// One parsed PNG chunk.
private struct Chunk {
    /// Four-letter chunk type.
    var type: String
    /// Chunk payload.
    var data: [UInt8]
    /// Whether the stored CRC matches CRC-32 over type and data.
    var crcValid: Bool
}

/// Reads a big-endian 32-bit integer at `offset`.
private func readBE(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    bytes[offset..<(offset + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
}

/// Splits a PNG (after the signature) into chunks, or nil if the framing is broken.
private func chunks(_ png: [UInt8]) -> [Chunk]? {
    var result: [Chunk] = []
    var offset = 8
    while offset < png.count {
        guard offset + 12 <= png.count else { return nil }
        let length = Int(readBE(png, offset))
        guard offset + 12 + length <= png.count else { return nil }
        let typeBytes = Array(png[(offset + 4)..<(offset + 8)])
        let data = Array(png[(offset + 8)..<(offset + 8 + length)])
        var crc = typeBytes.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
        crc = data.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, uInt($0.count)) }
        let stored = readBE(png, offset + 8 + length)
        result.append(Chunk(type: String(decoding: typeBytes, as: UTF8.self), data: data, crcValid: UInt32(truncatingIfNeeded: crc) == stored))
        offset += 12 + length
    }
    return result
}

/// Inflates a zlib stream whose decompressed size is known exactly.
private func inflate(_ data: [UInt8], expectedSize: Int) -> [UInt8]? {
    var output = [UInt8](repeating: 0, count: expectedSize + 1)
    var outputLength = uLongf(output.count)
    let status = output.withUnsafeMutableBufferPointer { out in
        data.withUnsafeBufferPointer { input in
            uncompress(out.baseAddress, &outputLength, input.baseAddress, uLong(input.count))
        }
    }
    guard status == Z_OK else { return nil }
    return Array(output.prefix(Int(outputLength)))
}

/// Unit tests for PNGEncoder.
@Suite("PNGEncoder")
struct PNGEncoderTests {
    /// Valid PNG structure.
    @Test("valid PNG structure", arguments: [(1, 1), (3, 2), (64, 48), (640, 480), (1_000, 3)])
    func structure(width: Int, height: Int) throws {
        let png = PNGEncoder.image(width: width, height: height, seed: 42)
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let parsed = try #require(chunks(png))
        #expect(parsed.first?.type == "IHDR")
        #expect(parsed.last?.type == "IEND")
        #expect(parsed.last?.data.isEmpty == true)
        #expect(parsed.allSatisfy { $0.crcValid })

        let ihdr = try #require(parsed.first?.data)
        #expect(ihdr.count == 13)
        #expect(readBE(ihdr, 0) == UInt32(width))
        #expect(readBE(ihdr, 4) == UInt32(height))
        #expect(Array(ihdr[8...]) == [8, 2, 0, 0, 0])

        let idat = parsed.filter { $0.type == "IDAT" }.flatMap(\.data)
        let rowBytes = 1 + 3 * width
        let raw = try #require(inflate(idat, expectedSize: height * rowBytes))
        #expect(raw.count == height * rowBytes)
        #expect(stride(from: 0, to: raw.count, by: rowBytes).allSatisfy { raw[$0] == 0 })
    }

    /// Large images split IDAT and stay valid.
    @Test("large images split IDAT and stay valid")
    func large() throws {
        let png = PNGEncoder.image(width: 2_048, height: 2_048, seed: 9)
        let parsed = try #require(chunks(png))
        #expect(parsed.allSatisfy { $0.crcValid })
        let idat = parsed.filter { $0.type == "IDAT" }.flatMap(\.data)
        let raw = try #require(inflate(idat, expectedSize: 2_048 * (1 + 3 * 2_048)))
        #expect(raw.count == 2_048 * (1 + 3 * 2_048))
    }

    /// Deterministic per seed.
    @Test("deterministic per seed")
    func determinism() {
        #expect(PNGEncoder.image(width: 32, height: 16, seed: 1) == PNGEncoder.image(width: 32, height: 16, seed: 1))
        #expect(PNGEncoder.image(width: 32, height: 16, seed: 1) != PNGEncoder.image(width: 32, height: 16, seed: 2))
    }

    /// Out-of-range dimensions are clamped, not trapped.
    @Test("out-of-range dimensions are clamped, not trapped", arguments: [(0, 0), (-5, 10)])
    func clamped(width: Int, height: Int) throws {
        let png = PNGEncoder.image(width: width, height: height, seed: 1)
        let ihdr = try #require(chunks(png)?.first?.data)
        #expect(readBE(ihdr, 0) == UInt32(max(width, 1)))
        #expect(readBE(ihdr, 4) == UInt32(max(height, 1)))
    }

    /// Sniffer recognises the output.
    @Test("sniffer recognises the output")
    func sniffed() {
        #expect(MediaSniffer.detect(Array(PNGEncoder.image(width: 4, height: 4, seed: 0).prefix(16))) == .png)
        #expect(MediaSniffer.detect(Array(WAVEncoder.melody(seed: 0, seconds: 0.1).prefix(16))) == .wav)
    }
}
