/// One H.264 video track, ready to mux: its parameter sets, geometry, timing and coded frames.
struct MP4VideoTrack {
    /// Displayed width in pixels.
    var width: Int
    /// Displayed height in pixels.
    var height: Int
    /// Media time units per second.
    var timescale: UInt32
    /// Duration of every frame, in `timescale` units.
    var frameDuration: UInt32
    /// The sequence parameter set NAL unit (header byte included, no start code).
    var sequenceParameterSet: [UInt8]
    /// The picture parameter set NAL unit.
    var pictureParameterSet: [UInt8]
    /// Each frame as MP4 stores it: NAL units each prefixed with its 4-byte big-endian length.
    var samples: [[UInt8]]
    /// Indices (from 0) of the frames a decoder can start at (IDR pictures).
    var syncSamples: [Int]

    /// Duration of the whole track in `timescale` units.
    var duration: UInt64 { UInt64(samples.count) * UInt64(frameDuration) }
}
