/// Packs one H.264 track into an MP4 file laid out for progressive playback (ISO/IEC 14496-12 and 14496-15).
///
/// The layout is `ftyp`, `moov`, `mdat` ("faststart"): the sample tables come before the media,
/// so a browser can start playing while the rest downloads. All frames are one chunk.
enum MP4Muxer {
    /// Time units per second of the movie header (durations in milliseconds).
    static let movieTimescale: UInt32 = 1000

    /// The whole file for `track`.
    static func file(_ track: MP4VideoTrack) -> [UInt8] {
        let mediaBytes = track.samples.reduce(0) { $0 + $1.count }
        precondition(mediaBytes < Int(UInt32.max) - 1024, "32-bit box sizes and chunk offsets hold the media")
        var header = MP4BoxWriter()
        writeFileType(&header)
        // The chunk offset sits inside `moov`, whose size does not depend on it: measure, then write for real.
        var probe = MP4BoxWriter()
        writeMovie(&probe, track: track, chunkOffset: 0)
        let chunkOffset = UInt32(header.bytes.count + probe.bytes.count + 8)
        writeMovie(&header, track: track, chunkOffset: chunkOffset)

        var output = header.bytes
        output.reserveCapacity(output.count + 8 + mediaBytes)
        withUnsafeBytes(of: UInt32(8 + mediaBytes).bigEndian) { output.append(contentsOf: $0) }
        output.append(contentsOf: Array("mdat".utf8))
        for sample in track.samples { output.append(contentsOf: sample) }
        return output
    }

    /// `ftyp`: ISO base media with the `avc1` brand.
    private static func writeFileType(_ writer: inout MP4BoxWriter) {
        writer.box("ftyp") { w in
            w.fourCC("isom")
            w.u32(0x200)  // minor_version
            for brand in ["isom", "iso2", "avc1", "mp41"] { w.fourCC(brand) }
        }
    }

    /// `moov`: the movie header and the one track.
    private static func writeMovie(_ writer: inout MP4BoxWriter, track: MP4VideoTrack, chunkOffset: UInt32) {
        let movieDuration = UInt32((track.duration * UInt64(movieTimescale) + UInt64(track.timescale) / 2) / UInt64(track.timescale))
        writer.box("moov") { moov in
            moov.fullBox("mvhd") { w in
                w.u32(0)  // creation_time
                w.u32(0)  // modification_time
                w.u32(movieTimescale)
                w.u32(movieDuration)
                w.u32(0x0001_0000)  // rate 1.0
                w.u16(0x0100)  // volume 1.0
                w.zeros(2 + 8)  // reserved
                w.unityMatrix()
                w.zeros(24)  // pre_defined
                w.u32(2)  // next_track_ID
            }
            moov.box("trak") { trak in
                // Flags: track enabled, in movie, in preview.
                trak.fullBox("tkhd", flags: 0x7) { w in
                    w.u32(0)  // creation_time
                    w.u32(0)  // modification_time
                    w.u32(1)  // track_ID
                    w.u32(0)  // reserved
                    w.u32(movieDuration)
                    w.zeros(8)  // reserved
                    w.u16(0)  // layer
                    w.u16(0)  // alternate_group
                    w.u16(0)  // volume: 0 for video
                    w.u16(0)  // reserved
                    w.unityMatrix()
                    w.u32(UInt32(track.width) << 16)  // 16.16 fixed point
                    w.u32(UInt32(track.height) << 16)
                }
                trak.box("mdia") { mdia in
                    mdia.fullBox("mdhd") { w in
                        w.u32(0)  // creation_time
                        w.u32(0)  // modification_time
                        w.u32(track.timescale)
                        w.u32(UInt32(track.duration))
                        w.u16(0x55C4)  // language "und", packed ISO-639-2/T
                        w.u16(0)  // pre_defined
                    }
                    mdia.fullBox("hdlr") { w in
                        w.u32(0)  // pre_defined
                        w.fourCC("vide")
                        w.zeros(12)  // reserved
                        w.append(Array("VideoHandler".utf8) + [0])
                    }
                    mdia.box("minf") { minf in
                        minf.fullBox("vmhd", flags: 1) { w in w.zeros(8) }  // graphicsmode, opcolor
                        minf.box("dinf") { dinf in
                            dinf.fullBox("dref") { w in
                                w.u32(1)  // entry_count
                                w.fullBox("url ", flags: 1) { _ in }  // media in this file
                            }
                        }
                        minf.box("stbl") { stbl in writeSampleTables(&stbl, track: track, chunkOffset: chunkOffset) }
                    }
                }
            }
        }
    }

    /// `stbl`: the sample description and the tables that locate and time every frame.
    private static func writeSampleTables(_ stbl: inout MP4BoxWriter, track: MP4VideoTrack, chunkOffset: UInt32) {
        stbl.fullBox("stsd") { w in
            w.u32(1)  // entry_count
            w.box("avc1") { entry in
                entry.zeros(6)  // reserved
                entry.u16(1)  // data_reference_index
                entry.zeros(16)  // pre_defined, reserved, pre_defined[3]
                entry.u16(UInt16(track.width))
                entry.u16(UInt16(track.height))
                entry.u32(0x0048_0000)  // 72 dpi
                entry.u32(0x0048_0000)
                entry.u32(0)  // reserved
                entry.u16(1)  // frame_count per sample
                entry.zeros(32)  // compressorname
                entry.u16(0x0018)  // depth
                entry.u16(0xFFFF)  // pre_defined = -1
                entry.box("avcC") { w in writeDecoderConfiguration(&w, track: track) }
            }
        }
        stbl.fullBox("stts") { w in
            w.u32(1)  // entry_count: every frame lasts the same
            w.u32(UInt32(track.samples.count))
            w.u32(track.frameDuration)
        }
        stbl.fullBox("stss") { w in
            w.u32(UInt32(track.syncSamples.count))
            for index in track.syncSamples { w.u32(UInt32(index + 1)) }  // sample numbers count from 1
        }
        stbl.fullBox("stsc") { w in
            w.u32(1)  // entry_count
            w.u32(1)  // first_chunk
            w.u32(UInt32(track.samples.count))  // samples_per_chunk: all in one
            w.u32(1)  // sample_description_index
        }
        stbl.fullBox("stsz") { w in
            w.u32(0)  // sample_size: sizes differ, listed below
            w.u32(UInt32(track.samples.count))
            for sample in track.samples { w.u32(UInt32(sample.count)) }
        }
        stbl.fullBox("stco") { w in
            w.u32(1)  // entry_count
            w.u32(chunkOffset)
        }
    }

    /// `AVCDecoderConfigurationRecord` (ISO/IEC 14496-15 §5.3.3.1): profile, level, NAL length size, parameter sets.
    private static func writeDecoderConfiguration(_ w: inout MP4BoxWriter, track: MP4VideoTrack) {
        let sps = track.sequenceParameterSet, pps = track.pictureParameterSet
        w.u8(1)  // configurationVersion
        w.u8(sps[1])  // AVCProfileIndication
        w.u8(sps[2])  // profile_compatibility (the constraint flags)
        w.u8(sps[3])  // AVCLevelIndication
        w.u8(0xFC | 3)  // reserved bits, lengthSizeMinusOne = 3: 4-byte NAL lengths
        w.u8(0xE0 | 1)  // reserved bits, one sequence parameter set
        w.u16(UInt16(sps.count))
        w.append(sps)
        w.u8(1)  // one picture parameter set
        w.u16(UInt16(pps.count))
        w.append(pps)
    }
}
