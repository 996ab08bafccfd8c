/// Writes ISO base media file format boxes (ISO/IEC 14496-12): big-endian fields inside size-prefixed boxes.
struct MP4BoxWriter {
    /// Everything written so far.
    private(set) var bytes: [UInt8] = []

    /// An empty writer; `capacity` reserves room for the expected number of bytes.
    init(capacity: Int = 1024) {
        bytes.reserveCapacity(capacity)
    }

    /// A box: its 32-bit size (filled in once `body` has written the contents), its four-letter type, its contents.
    mutating func box(_ type: String, _ body: (inout MP4BoxWriter) -> Void) {
        let start = bytes.count
        u32(0)
        fourCC(type)
        body(&self)
        let size = UInt32(bytes.count - start)
        withUnsafeBytes(of: size.bigEndian) { bytes.replaceSubrange(start..<(start + 4), with: $0) }
    }

    /// A full box: a box whose contents start with a version byte and 24 bits of flags.
    mutating func fullBox(_ type: String, version: UInt8 = 0, flags: UInt32 = 0, _ body: (inout MP4BoxWriter) -> Void) {
        box(type) { writer in
            writer.u32(UInt32(version) << 24 | flags & 0xFF_FFFF)
            body(&writer)
        }
    }

    /// An 8-bit field.
    mutating func u8(_ value: UInt8) { bytes.append(value) }

    /// A 16-bit field.
    mutating func u16(_ value: UInt16) { withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) } }

    /// A 32-bit field.
    mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) } }

    /// A four-character code (box types, brands, handler types); ASCII, exactly four characters.
    mutating func fourCC(_ code: String) {
        let ascii = Array(code.utf8)
        precondition(ascii.count == 4, "a four-character code has four ASCII characters")
        bytes.append(contentsOf: ascii)
    }

    /// `count` zero bytes (reserved and pre-defined fields).
    mutating func zeros(_ count: Int) { bytes.append(contentsOf: repeatElement(0, count: count)) }

    /// Raw bytes.
    mutating func append<C: Collection>(_ data: C) where C.Element == UInt8 { bytes.append(contentsOf: data) }

    /// The unity transformation matrix of `mvhd` and `tkhd` (16.16 and 2.30 fixed point).
    mutating func unityMatrix() {
        for value: UInt32 in [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] { u32(value) }
    }
}
