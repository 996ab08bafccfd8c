import Testing

@testable import MediaJobs

/// The MP4 file's boxes, parsed back: faststart layout, sample tables that add up, the decoder configuration.
@Suite struct MP4MuxerTests {
    static let width = 200, height = 120, seconds = 2, fps = 12

    static func file() throws -> [UInt8] {
        try #require(VideoEncoder.mp4(width: width, height: height, seconds: seconds, fps: fps, seed: 9))
    }

    @Test func moovComesBeforeMdatAndBoxesNestCleanly() throws {
        let file = try Self.file()
        let top = try #require(TestMP4Box.boxes(in: file, range: 0..<file.count))
        #expect(top.map(\.type) == ["ftyp", "moov", "mdat"])
        let ftyp = top[0]
        #expect(String(decoding: ftyp.content.prefix(4), as: UTF8.self) == "isom")
        let brands = stride(from: 8, to: ftyp.content.count, by: 4).map { String(decoding: ftyp.content[$0..<($0 + 4)], as: UTF8.self) }
        #expect(brands.contains("avc1") && brands.contains("isom"))
        let moov = top[1]
        #expect(moov.children().map(\.type) == ["mvhd", "trak"])
        let stbl = try #require(moov.descend(["trak", "mdia", "minf", "stbl"]))
        #expect(stbl.children().map(\.type) == ["stsd", "stts", "stss", "stsc", "stsz", "stco"])
    }

    @Test func sampleTablesLocateAndTimeEveryFrame() throws {
        let file = try Self.file()
        let top = try #require(TestMP4Box.boxes(in: file, range: 0..<file.count))
        let moov = top[1], mdat = top[2]
        let frames = Self.seconds * Self.fps
        let stbl = try #require(moov.descend(["trak", "mdia", "minf", "stbl"]))

        let stts = try #require(stbl.child("stts"))
        #expect(stts.u32(at: 4) == 1 && stts.u32(at: 8) == UInt32(frames) && stts.u32(at: 12) == 1000)
        let stss = try #require(stbl.child("stss"))
        #expect(stss.u32(at: 4) == 1 && stss.u32(at: 8) == 1)  // only the first frame is a sync sample
        let stsc = try #require(stbl.child("stsc"))
        #expect(stsc.u32(at: 4) == 1 && stsc.u32(at: 8) == 1 && stsc.u32(at: 12) == UInt32(frames) && stsc.u32(at: 16) == 1)
        let stsz = try #require(stbl.child("stsz"))
        #expect(stsz.u32(at: 4) == 0 && stsz.u32(at: 8) == UInt32(frames))
        let sizes = (0..<frames).map { Int(stsz.u32(at: 12 + 4 * $0)) }
        #expect(sizes.reduce(0, +) == mdat.size - 8)
        let stco = try #require(stbl.child("stco"))
        #expect(stco.u32(at: 4) == 1 && Int(stco.u32(at: 8)) == mdat.contentOffset)

        // Each sample is exactly one length-prefixed NAL unit: an IDR slice first, then P slices.
        var offset = mdat.contentOffset
        for (index, size) in sizes.enumerated() {
            #expect(Int(TestMP4Box.readU32(file, offset)) == size - 4)
            #expect(file[offset + 4] & 0x1F == (index == 0 ? 5 : 1))
            offset += size
        }
        #expect(offset == file.count)
    }

    @Test func headersGiveSizeAndDuration() throws {
        let file = try Self.file()
        let moov = try #require(TestMP4Box.boxes(in: file, range: 0..<file.count)?[1])
        let mvhd = try #require(moov.child("mvhd"))
        #expect(mvhd.u32(at: 12) == 1000 && mvhd.u32(at: 16) == UInt32(Self.seconds * 1000))
        let tkhd = try #require(moov.descend(["trak"])?.child("tkhd"))
        #expect(tkhd.u32(at: 12) == 1)  // track id
        #expect(tkhd.u32(at: 20) == UInt32(Self.seconds * 1000))
        #expect(tkhd.u32(at: 76) == UInt32(Self.width) << 16 && tkhd.u32(at: 80) == UInt32(Self.height) << 16)
        let mdhd = try #require(moov.descend(["trak", "mdia"])?.child("mdhd"))
        #expect(mdhd.u32(at: 12) == UInt32(Self.fps * 1000))
        #expect(mdhd.u32(at: 16) == UInt32(Self.seconds * Self.fps * 1000))
        let hdlr = try #require(moov.descend(["trak", "mdia"])?.child("hdlr"))
        #expect(String(decoding: hdlr.content[8..<12], as: UTF8.self) == "vide")
    }

    @Test func sampleEntryCarriesTheParameterSets() throws {
        let file = try Self.file()
        let moov = try #require(TestMP4Box.boxes(in: file, range: 0..<file.count)?[1])
        let stsd = try #require(moov.descend(["trak", "mdia", "minf", "stbl", "stsd"]))
        #expect(stsd.u32(at: 4) == 1)
        let avc1 = try #require(stsd.child("avc1", skip: 8))
        #expect(avc1.u16(at: 24) == UInt16(Self.width) && avc1.u16(at: 26) == UInt16(Self.height))
        let avcC = try #require(avc1.child("avcC", skip: 78)).content
        let encoder = H264Encoder(format: try #require(H264StreamFormat(width: Self.width, height: Self.height, fps: Self.fps)))
        let sps = encoder.sequenceParameterSet.bytes, pps = encoder.pictureParameterSet.bytes
        #expect(Array(avcC[0..<4]) == [1, 66, 0xC0, 30])  // version, Baseline, constrained, level 3.0
        #expect(avcC[4] & 3 == 3)  // 4-byte NAL lengths
        #expect(avcC[5] & 0x1F == 1)
        #expect(Int(avcC[6]) << 8 | Int(avcC[7]) == sps.count)
        #expect(Array(avcC[8..<(8 + sps.count)]) == sps)
        let p = 8 + sps.count
        #expect(avcC[p] == 1 && Int(avcC[p + 1]) << 8 | Int(avcC[p + 2]) == pps.count)
        #expect(Array(avcC[(p + 3)...]) == pps)
    }

    @Test func theSameSeedGivesTheSameFileAndAnotherSeedAnother() throws {
        let first = try Self.file(), again = try Self.file()
        #expect(first == again)
        let other = try #require(VideoEncoder.mp4(width: Self.width, height: Self.height, seconds: Self.seconds, fps: Self.fps, seed: 10))
        #expect(other != first)
    }

    @Test(arguments: [(0, 720, 8), (1280, 721, 8), (1280, 720, 0), (1280, 720, 61), (8192, 720, 8)])
    func argumentsOutOfRangeGiveNoFile(width: Int, height: Int, seconds: Int) {
        #expect(VideoEncoder.mp4(width: width, height: height, seconds: seconds, seed: 1) == nil)
        #expect(VideoEncoder.thumbnail(width: width, height: height, seconds: seconds, seed: 1) == nil)
    }
}
