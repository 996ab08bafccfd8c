/// An ISO BMFF box parsed back from a file, for checking what `MP4Muxer` wrote.
struct TestMP4Box {
    /// Four-letter type.
    var type: String
    /// Offset of the box (its size field) in the file.
    var offset: Int
    /// Offset of the contents (after size and type).
    var contentOffset: Int
    /// Total size, header included.
    var size: Int
    /// The whole file, so fields can be read at absolute offsets.
    let file: [UInt8]

    /// The boxes laid one after another in `range` of `file`; nil when a size runs past its container.
    static func boxes(in file: [UInt8], range: Range<Int>) -> [TestMP4Box]? {
        var boxes: [TestMP4Box] = []
        var offset = range.lowerBound
        while offset < range.upperBound {
            guard offset + 8 <= range.upperBound else { return nil }
            let size = Int(readU32(file, offset))
            guard size >= 8, offset + size <= range.upperBound else { return nil }
            let type = String(decoding: file[(offset + 4)..<(offset + 8)], as: UTF8.self)
            boxes.append(TestMP4Box(type: type, offset: offset, contentOffset: offset + 8, size: size, file: file))
            offset += size
        }
        return boxes
    }

    /// The boxes inside this one, skipping `skip` bytes of its own fields first (a full box's 4, `stsd`'s 8, …).
    func children(skip: Int = 0) -> [TestMP4Box] {
        Self.boxes(in: file, range: (contentOffset + skip)..<(offset + size)) ?? []
    }

    /// The first child of this type.
    func child(_ type: String, skip: Int = 0) -> TestMP4Box? {
        children(skip: skip).first { $0.type == type }
    }

    /// Follows a path of container types (no fields before their children), e.g. `["trak", "mdia", "minf", "stbl"]`.
    func descend(_ path: [String]) -> TestMP4Box? {
        path.reduce(Optional(self)) { box, type in box?.child(type) }
    }

    /// The contents as bytes.
    var content: [UInt8] { Array(file[contentOffset..<(offset + size)]) }

    /// A 32-bit field `at` bytes into the contents.
    func u32(at: Int) -> UInt32 { Self.readU32(file, contentOffset + at) }

    /// A 16-bit field `at` bytes into the contents.
    func u16(at: Int) -> UInt16 { UInt16(file[contentOffset + at]) << 8 | UInt16(file[contentOffset + at + 1]) }

    static func readU32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        bytes[offset..<(offset + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }
}
