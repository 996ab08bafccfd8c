/// One H.264 network abstraction layer unit: a header byte and an escaped payload (ITU-T H.264 §7.3.1).
struct NALUnit: Equatable {
    /// The `nal_unit_type` values this encoder writes.
    enum Kind: UInt8 {
        /// A slice of a non-IDR picture (the P frames).
        case slice = 1
        /// A slice of an IDR picture (the first frame).
        case idrSlice = 5
        /// A sequence parameter set.
        case sequenceParameterSet = 7
        /// A picture parameter set.
        case pictureParameterSet = 8
    }

    /// The header byte followed by the payload with emulation prevention bytes inserted.
    let bytes: [UInt8]

    /// Wraps `payload` (an RBSP ending in its trailing bits); `referenceIDC` is `nal_ref_idc` (0...3).
    init(kind: Kind, referenceIDC: UInt8 = 3, payload: [UInt8]) {
        var bytes: [UInt8] = [(referenceIDC & 3) << 5 | kind.rawValue]
        bytes.reserveCapacity(payload.count + payload.count / 64 + 1)
        Self.appendEscaped(payload, to: &bytes)
        self.bytes = bytes
    }

    /// Appends `payload`, inserting `0x03` wherever two zero bytes would be followed by a byte ≤ 3.
    ///
    /// A decoder looks for start codes (`00 00 01`) in the byte stream; the escape keeps payload
    /// bytes from ever looking like one (§7.4.1, `emulation_prevention_three_byte`).
    static func appendEscaped(_ payload: [UInt8], to output: inout [UInt8]) {
        var zeros = 0
        payload.withUnsafeBufferPointer { input in
            for byte in input {
                if zeros >= 2, byte <= 3 {
                    output.append(3)
                    zeros = 0
                }
                output.append(byte)
                zeros = byte == 0 ? zeros + 1 : 0
            }
        }
    }
}
