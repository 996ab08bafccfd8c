/// Reads back what `BitWriter` writes: `u(n)`, `ue(v)`, `se(v)` over an RBSP, for checking headers field by field.
final class TestBitReader {
    let bytes: [UInt8]
    private(set) var position = 0

    /// A reader over a NAL unit's payload (the header byte dropped, emulation prevention bytes removed).
    init(nalUnit: [UInt8]) {
        var payload: [UInt8] = []
        var zeros = 0
        for byte in nalUnit.dropFirst() {
            if zeros >= 2, byte == 3 {
                zeros = 0
                continue
            }
            payload.append(byte)
            zeros = byte == 0 ? zeros + 1 : 0
        }
        bytes = payload
    }

    /// A reader over raw bytes.
    init(rbsp: [UInt8]) {
        bytes = rbsp
    }

    var isByteAligned: Bool { position % 8 == 0 }
    var bitsLeft: Int { bytes.count * 8 - position }

    func u(_ count: Int) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<count {
            let bit = bytes[position / 8] >> (7 - UInt8(position % 8)) & 1
            value = value << 1 | UInt32(bit)
            position += 1
        }
        return value
    }

    func flag() -> Bool { u(1) == 1 }

    func ue() -> UInt32 {
        var zeros = 0
        while u(1) == 0 { zeros += 1 }
        return zeros == 0 ? 0 : (1 << zeros) - 1 + u(zeros)
    }

    func se() -> Int32 {
        let code = ue()
        return code % 2 == 1 ? Int32((code + 1) / 2) : -Int32(code / 2)
    }

    /// Whole bytes from a byte boundary.
    func alignedBytes(_ count: Int) -> [UInt8] {
        precondition(isByteAligned)
        let start = position / 8
        position += count * 8
        return Array(bytes[start..<(start + count)])
    }

    /// The bits up to the next boundary, which must all be zero for `pcm_alignment_zero_bit`.
    func skipToByteBoundary() -> UInt32 {
        u((8 - position % 8) % 8)
    }
}
