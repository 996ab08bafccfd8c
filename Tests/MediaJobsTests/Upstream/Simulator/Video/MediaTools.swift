import Foundation
import Testing

/// `ffprobe` and `ffmpeg`, the independent readers the video tests check the simulator's files with.
///
/// scripts/media-tools installs them (Debian's `ffmpeg` package) and exports
/// `MEDIAJOBS_TEST_FFPROBE` (and `MEDIAJOBS_TEST_FFMPEG`); a test that needs them fails, never
/// skips, when they are not there.
enum MediaTools {
    /// What a finished tool run left.
    struct Run {
        var status: Int32
        var standardOutput: Data
        var standardError: String
    }

    /// Why a tool could not be used.
    struct Missing: Error, CustomStringConvertible {
        var description: String
    }

    /// The `ffprobe` executable named by `MEDIAJOBS_TEST_FFPROBE`.
    static func ffprobe() throws -> URL {
        guard let path = ProcessInfo.processInfo.environment["MEDIAJOBS_TEST_FFPROBE"], !path.isEmpty else {
            throw Missing(description: "MEDIAJOBS_TEST_FFPROBE is not set: run `source scripts/media-tools` (it installs Debian's ffmpeg package and sets it), or scripts/test")
        }
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw Missing(description: "MEDIAJOBS_TEST_FFPROBE=\(path) is not an executable file")
        }
        return URL(fileURLWithPath: path)
    }

    /// The `ffmpeg` executable: `MEDIAJOBS_TEST_FFMPEG`, else the one beside `ffprobe`.
    static func ffmpeg() throws -> URL {
        let path = try ProcessInfo.processInfo.environment["MEDIAJOBS_TEST_FFMPEG"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ffprobe().deletingLastPathComponent().appendingPathComponent("ffmpeg").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw Missing(description: "no ffmpeg at \(path): set MEDIAJOBS_TEST_FFMPEG or `source scripts/media-tools`")
        }
        return URL(fileURLWithPath: path)
    }

    /// Runs `tool` with `arguments` to the end; output goes through temporary files, so no pipe can fill up and stall it.
    static func run(_ tool: URL, _ arguments: [String]) throws -> Run {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mediajobs-tool-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outURL = directory.appendingPathComponent("stdout"), errURL = directory.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        let process = Process()
        process.executableURL = tool
        process.arguments = arguments
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        return Run(
            status: process.terminationStatus, standardOutput: try Data(contentsOf: outURL),
            standardError: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }

    /// Writes `bytes` to a temporary file named `name`, runs `body` with its path, and removes it.
    static func withTemporaryFile<T>(_ bytes: [UInt8], name: String, _ body: (String) throws -> T) throws -> T {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mediajobs-\(UUID().uuidString)-\(name)")
        try Data(bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        return try body(url.path)
    }

    /// `ffprobe -show_streams -show_format -of json` of the file at `path`.
    static func probe(_ path: String) throws -> ProbeResult {
        let run = try run(try ffprobe(), ["-v", "error", "-show_streams", "-show_format", "-of", "json", path])
        guard run.status == 0 else { throw Missing(description: "ffprobe failed (\(run.status)): \(run.standardError)") }
        return try JSONDecoder().decode(ProbeResult.self, from: run.standardOutput)
    }

    /// What the tests read from ffprobe's JSON.
    struct ProbeResult: Decodable {
        struct Stream: Decodable {
            var codec_name: String?
            var codec_type: String?
            var profile: String?
            var width: Int?
            var height: Int?
            var duration: String?
            var nb_frames: String?
            var pix_fmt: String?
        }

        struct Format: Decodable {
            var format_name: String?
            var duration: String?
        }

        var streams: [Stream]
        var format: Format
    }
}
