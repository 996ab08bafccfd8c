/// Writes an H.264 raw byte sequence payload (RBSP) bit by bit, most significant bit first.
///
/// The syntax elements H.264 headers use: fixed-width `u(n)`, unsigned and signed exp-Golomb
/// `ue(v)`/`se(v)`, byte alignment and `rbsp_trailing_bits()` (ITU-T H.264 §7.2, §9.1).
struct BitWriter {
    /// Whole bytes written so far (the partial byte is in `pending`).
    private(set) var bytes: [UInt8] = []
    /// Bits of the byte being filled, right-aligned.
    private var pending: UInt8 = 0
    /// How many bits of `pending` are used (0...7).
    private var pendingCount = 0

    /// An empty writer; `capacity` reserves room for the expected number of bytes.
    init(capacity: Int = 64) {
        bytes.reserveCapacity(capacity)
    }

    /// Whether the next bit starts a new byte.
    var isByteAligned: Bool { pendingCount == 0 }

    /// Bits written so far.
    var bitCount: Int { bytes.count * 8 + pendingCount }

    /// `u(n)`: the low `count` bits of `value` (0...32 bits).
    mutating func write(_ value: UInt32, bits count: Int) {
        precondition((0...32).contains(count), "u(n) takes 0 to 32 bits")
        var remaining = count
        while remaining > 0 {
            // As many bits as fit in the current byte, taken from the top of what is left.
            let take = min(8 - pendingCount, remaining)
            let shifted = UInt32(truncatingIfNeeded: UInt64(value) >> UInt64(remaining - take))
            let chunk = UInt8(truncatingIfNeeded: shifted) & UInt8(truncatingIfNeeded: (1 << take) - 1)
            pending = pending << take | chunk
            pendingCount += take
            remaining -= take
            if pendingCount == 8 {
                bytes.append(pending)
                pending = 0
                pendingCount = 0
            }
        }
    }

    /// `u(1)`.
    mutating func write(flag: Bool) {
        write(flag ? 1 : 0, bits: 1)
    }

    /// `ue(v)`: unsigned exp-Golomb, `value` below 2³² − 1.
    mutating func write(ue value: UInt32) {
        precondition(value < UInt32.max, "ue(v) codes values up to 2^32 - 2")
        let codeNum = value + 1
        let significant = 32 - codeNum.leadingZeroBitCount
        // significant − 1 leading zeros, then codeNum itself in `significant` bits.
        write(0, bits: significant - 1)
        write(codeNum, bits: significant)
    }

    /// `se(v)`: signed exp-Golomb (k > 0 codes as 2k − 1, k ≤ 0 as −2k).
    mutating func write(se value: Int32) {
        let magnitude = UInt32(value.magnitude)
        write(ue: value > 0 ? 2 * magnitude - 1 : 2 * magnitude)
    }

    /// Zero bits up to the next byte boundary (`pcm_alignment_zero_bit`, `cabac_alignment_one_bit` aside).
    mutating func alignWithZeros() {
        if pendingCount > 0 { write(0, bits: 8 - pendingCount) }
    }

    /// Whole bytes at a byte boundary: the PCM samples of a macroblock go in this way, without bit shifting.
    mutating func append<C: Collection>(alignedBytes: C) where C.Element == UInt8 {
        precondition(isByteAligned, "bytes can only be appended at a byte boundary")
        bytes.append(contentsOf: alignedBytes)
    }

    /// `rbsp_trailing_bits()`: a one bit, then zeros to the byte boundary; the payload is then complete.
    mutating func writeTrailingBits() {
        write(1, bits: 1)
        alignWithZeros()
    }
}
