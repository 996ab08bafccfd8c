/// Generates short deterministic H.264 videos in MP4 files, and their poster images, for the upstream simulator.
///
/// The picture is a `VideoScene` (a seeded gradient, a sliding square, a progress bar); the
/// first frame is coded raw and each later frame codes only the macroblocks that changed, so
/// 15 seconds of 720p stay around 3 MB and the file decodes to exactly the scene's samples.
public enum VideoEncoder {
    /// Frames per second when the caller does not say.
    public static let defaultFPS = 24
    /// Durations accepted, in whole seconds.
    public static let seconds = 1...60

    /// An MP4 file of `seconds` seconds at `fps` frames per second, `width` × `height` pixels, its colours from `seed`.
    ///
    /// Nil unless `width` and `height` are even and in `2...4096`, `seconds` in `Self.seconds` and `fps` in `1...60`.
    public static func mp4(width: Int, height: Int, seconds: Int, fps: Int = defaultFPS, seed: UInt64) -> [UInt8]? {
        guard let (format, scene) = scene(width: width, height: height, seconds: seconds, fps: fps, seed: seed) else { return nil }
        let encoder = H264Encoder(format: format)
        var samples: [[UInt8]] = []
        samples.reserveCapacity(scene.frameCount)
        let first = encoder.idrPicture { address, buffer in scene.fillMacroblock(address, frame: 0, into: buffer) }
        samples.append(lengthPrefixed(first))
        for frame in 1..<scene.frameCount {
            let picture = encoder.predictedPicture(frameNumber: frame, changed: scene.changedMacroblocks(at: frame)) { address, buffer in
                scene.fillMacroblock(address, frame: frame, into: buffer)
            }
            samples.append(lengthPrefixed(picture))
        }
        // A timescale of 1000 units per frame keeps every duration exact in whole units.
        let track = MP4VideoTrack(
            width: width, height: height, timescale: UInt32(fps) * 1000, frameDuration: 1000,
            sequenceParameterSet: encoder.sequenceParameterSet.bytes, pictureParameterSet: encoder.pictureParameterSet.bytes,
            samples: samples, syncSamples: [0])
        return MP4Muxer.file(track)
    }

    /// The first frame of the same video as a PNG (its poster image); nil for the arguments `mp4` refuses.
    public static func thumbnail(width: Int, height: Int, seconds: Int, fps: Int = defaultFPS, seed: UInt64) -> [UInt8]? {
        guard let (format, scene) = scene(width: width, height: height, seconds: seconds, fps: fps, seed: seed) else { return nil }
        return PNGEncoder.encode(width: format.width, height: format.height) { y, buffer, offset in
            scene.fillRGBRow(y, frame: 0, into: buffer, at: offset)
        }
    }

    /// The format and scene for valid arguments.
    static func scene(width: Int, height: Int, seconds: Int, fps: Int, seed: UInt64) -> (H264StreamFormat, VideoScene)? {
        guard Self.seconds.contains(seconds), let format = H264StreamFormat(width: width, height: height, fps: fps) else { return nil }
        return (format, VideoScene(format: format, frameCount: seconds * fps, seed: seed))
    }

    /// A NAL unit as an MP4 sample holds it: a 4-byte big-endian length, then the unit.
    static func lengthPrefixed(_ unit: NALUnit) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(4 + unit.bytes.count)
        withUnsafeBytes(of: UInt32(unit.bytes.count).bigEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: unit.bytes)
        return bytes
    }
}
