import Foundation
import Testing

@testable import MediaJobs

/// The simulator's MP4 files as an independent decoder sees them: ffprobe reads the codec, size
/// and duration; ffmpeg decodes every frame without complaint, and to exactly the scene's samples.
@Suite struct VideoEncoderTests {
    @Test(arguments: [(1280, 720, 15), (720, 1280, 4), (854, 480, 5), (480, 854, 3), (720, 720, 2), (480, 480, 1)])
    func ffprobeReadsH264WithTheAskedSizeAndDuration(width: Int, height: Int, seconds: Int) throws {
        let fps = VideoEncoder.defaultFPS
        let file = try #require(VideoEncoder.mp4(width: width, height: height, seconds: seconds, seed: 7))
        try MediaTools.withTemporaryFile(file, name: "video.mp4") { path in
            let probe = try MediaTools.probe(path)
            #expect(probe.format.format_name?.contains("mp4") == true)
            let stream = try #require(probe.streams.first)
            #expect(probe.streams.count == 1)
            #expect(stream.codec_type == "video")
            #expect(stream.codec_name == "h264")
            #expect(stream.profile == "Constrained Baseline")
            #expect(stream.width == width && stream.height == height)
            #expect(stream.pix_fmt == "yuv420p")
            #expect(stream.nb_frames == "\(seconds * fps)")
            for duration in [stream.duration, probe.format.duration] {
                let value = try #require(duration.flatMap(Double.init))
                #expect(abs(value - Double(seconds)) <= 1 / Double(fps), "duration \(value) for \(seconds) s")
            }
            let decode = try MediaTools.run(try MediaTools.ffmpeg(), ["-v", "error", "-i", path, "-f", "null", "-"])
            #expect(decode.status == 0)
            #expect(decode.standardError.isEmpty, "ffmpeg reported: \(decode.standardError)")
        }
        // A few MB at most: the first frame raw, then only what moves.
        #expect(file.count < 4_000_000, "\(width)x\(height) \(seconds) s is \(file.count) bytes")
    }

    @Test func decodesToExactlyTheScenesSamples() throws {
        let width = 200, height = 120, seconds = 2, fps = 12, seed: UInt64 = 5
        let file = try #require(VideoEncoder.mp4(width: width, height: height, seconds: seconds, fps: fps, seed: seed))
        let decoded = try MediaTools.withTemporaryFile(file, name: "exact.mp4") { path in
            try MediaTools.run(try MediaTools.ffmpeg(), ["-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"])
        }
        #expect(decoded.status == 0, "\(decoded.standardError)")
        let (format, scene) = try #require(VideoEncoder.scene(width: width, height: height, seconds: seconds, fps: fps, seed: seed))
        let frameBytes = width * height * 3 / 2
        #expect(decoded.standardOutput.count == frameBytes * scene.frameCount)
        let output = [UInt8](decoded.standardOutput)
        for frame in 0..<scene.frameCount where (frame + 1) * frameBytes <= output.count {
            let expected = Self.displayedPlanes(scene: scene, format: format, frame: frame)
            let actual = Array(output[(frame * frameBytes)..<((frame + 1) * frameBytes)])
            #expect(actual == expected, "frame \(frame) differs from the scene")
        }
        // The square moved and the bar grew: the frames are not all alike.
        #expect(output.prefix(frameBytes) != output.suffix(frameBytes))
    }

    @Test func thumbnailIsAPNGOfTheFirstFrame() throws {
        let width = 320, height = 180, seconds = 3
        let png = try #require(VideoEncoder.thumbnail(width: width, height: height, seconds: seconds, seed: 3))
        #expect(Array(png.prefix(8)) == PNGEncoder.signature)
        let video = try #require(VideoEncoder.mp4(width: width, height: height, seconds: seconds, seed: 3))
        let ffmpeg = try MediaTools.ffmpeg()
        // Both as RGB through the same decoder: they differ only by colour conversion rounding.
        let fromPNG = try MediaTools.withTemporaryFile(png, name: "poster.png") { path in
            let probe = try MediaTools.probe(path)
            #expect(probe.streams.first?.codec_name == "png")
            #expect(probe.streams.first?.width == width && probe.streams.first?.height == height)
            return try MediaTools.run(ffmpeg, ["-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        }
        let fromVideo = try MediaTools.withTemporaryFile(video, name: "poster-source.mp4") { path in
            try MediaTools.run(ffmpeg, ["-v", "error", "-i", path, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        }
        let a = [UInt8](fromPNG.standardOutput), b = [UInt8](fromVideo.standardOutput)
        try #require(a.count == width * height * 3 && b.count == a.count)
        let meanDifference = Double(zip(a, b).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }) / Double(a.count)
        #expect(meanDifference < 8, "mean RGB difference \(meanDifference)")
    }

    /// The frame as a decoder outputs it: Y, Cb, Cr planes cropped to the displayed size.
    static func displayedPlanes(scene: VideoScene, format: H264StreamFormat, frame: Int) -> [UInt8] {
        let codedWidth = format.codedWidth, codedHeight = format.codedHeight
        var luma = [UInt8](repeating: 0, count: codedWidth * codedHeight)
        var cb = [UInt8](repeating: 0, count: codedWidth * codedHeight / 4), cr = cb
        var samples = [UInt8](repeating: 0, count: H264Encoder.macroblockSampleCount)
        for address in 0..<format.macroblockCount {
            samples.withUnsafeMutableBufferPointer { scene.fillMacroblock(address, frame: frame, into: $0) }
            let x0 = address % format.widthInMacroblocks * 16, y0 = address / format.widthInMacroblocks * 16
            for row in 0..<16 {
                for column in 0..<16 { luma[(y0 + row) * codedWidth + x0 + column] = samples[row * 16 + column] }
            }
            for row in 0..<8 {
                for column in 0..<8 {
                    let index = (y0 / 2 + row) * codedWidth / 2 + x0 / 2 + column
                    cb[index] = samples[256 + row * 8 + column]
                    cr[index] = samples[320 + row * 8 + column]
                }
            }
        }
        func crop(_ plane: [UInt8], stride: Int, width: Int, height: Int) -> [UInt8] {
            (0..<height).flatMap { plane[($0 * stride)..<($0 * stride + width)] }
        }
        return crop(luma, stride: codedWidth, width: format.width, height: format.height)
            + crop(cb, stride: codedWidth / 2, width: format.width / 2, height: format.height / 2)
            + crop(cr, stride: codedWidth / 2, width: format.width / 2, height: format.height / 2)
    }
}
