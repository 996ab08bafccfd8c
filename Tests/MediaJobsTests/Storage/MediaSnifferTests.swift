import Testing

@testable import MediaJobs

/// Pads a signature to `MediaSniffer.prefixLength` bytes, as a real file prefix would be.
private func padded(_ bytes: [UInt8]) -> [UInt8] {
    bytes + [UInt8](repeating: 0x41, count: max(0, MediaSniffer.prefixLength - bytes.count))
}

/// ASCII bytes of `text`.
private func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Unit tests for MediaSniffer.
@Suite("MediaSniffer")
struct MediaSnifferTests {
    /// Known-good file prefixes and the media each identifies.
    static let samples: [([UInt8], DetectedMedia)] = [
        ([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13], .png),
        ([0xFF, 0xD8, 0xFF, 0xE0, 0, 16] + ascii("JFIF"), .jpeg),
        ([0xFF, 0xD8, 0xFF, 0xE1] + ascii("Exif"), .jpeg),
        (ascii("RIFF") + [0x24, 0x08, 0, 0] + ascii("WEBPVP8 "), .webp),
        (ascii("RIFF") + [0x24, 0x08, 0, 0] + ascii("WAVEfmt "), .wav),
        (ascii("ID3") + [4, 0, 0, 0, 0, 0, 0], .mp3),
        ([0xFF, 0xFB, 0x90, 0x64], .mp3),  // MPEG-1 layer III, 128 kbit/s, 44.1 kHz
        ([0xFF, 0xF3, 0x48, 0xC4], .mp3),  // MPEG-2 layer III
        ([0xFF, 0xE3, 0x18, 0xC4], .mp3),  // MPEG-2.5 layer III
        ([0xFF, 0xFD, 0x90, 0x04], .mp3),  // MPEG-1 layer II
        ([0, 0, 0, 0x20] + ascii("ftypisom"), .mp4),
        ([0, 0, 0, 0x18] + ascii("ftypmp42"), .mp4),
        ([0, 0, 0, 0x1C] + ascii("ftypM4V "), .mp4),
    ]

    /// Recognises magic numbers.
    @Test("recognises magic numbers", arguments: samples)
    func detects(bytes: [UInt8], expected: DetectedMedia) {
        #expect(MediaSniffer.detect(padded(bytes)) == expected)
        #expect(MediaSniffer.detect(bytes + [UInt8](repeating: 0, count: 100)) == expected)
    }

    /// Prefixes that must not be identified as any supported media.
    static let rejects: [[UInt8]] = [
        [],
        [0x89, 0x50, 0x4E],  // truncated PNG
        [0xFF, 0xD8],  // truncated JPEG
        ascii("RIFF") + [0, 0, 0, 0] + ascii("AVI LIST"),
        ascii("RIFF"),
        ascii("GIF89a") + [1, 0, 1, 0],
        ascii("<!DOCTYPE html>"),
        ascii("{\"error\":true}"),
        [0xFF, 0xF1, 0x50, 0x80],  // AAC ADTS: layer bits 00
        [0xFF, 0xEB, 0x90, 0x64],  // reserved MPEG version 01
        [0xFF, 0xFB, 0xF0, 0x64],  // bitrate index 1111
        [0xFF, 0xFB, 0x9C, 0x64],  // sample-rate index 11
        [0xFF, 0xFB],  // too short to validate
        [0, 0, 0, 0x1C] + ascii("ftypavif"),  // AVIF still image
        [0, 0, 0, 0x18] + ascii("ftypheic"),  // HEIC still image
        [0x25, 0x50, 0x44, 0x46, 0x2D],  // %PDF-
    ]

    /// Rejects other and truncated data.
    @Test("rejects other and truncated data", arguments: rejects)
    func rejectsUnknown(bytes: [UInt8]) {
        #expect(MediaSniffer.detect(bytes) == nil)
    }

    /// Content types, extensions and kinds.
    @Test("content types, extensions and kinds", arguments: DetectedMedia.allCases)
    func metadata(media: DetectedMedia) {
        #expect(DetectedMedia(contentType: media.contentType) == media)
        #expect([media.isImage, media.isAudio, media.isVideo].filter { $0 }.count == 1)
        #expect(!media.fileExtension.isEmpty && !media.fileExtension.hasPrefix("."))
    }

    /// Canonical values.
    @Test("canonical values")
    func canonical() {
        #expect(DetectedMedia.png.contentType == "image/png")
        #expect(DetectedMedia.jpeg.contentType == "image/jpeg")
        #expect(DetectedMedia.webp.contentType == "image/webp")
        #expect(DetectedMedia.wav.contentType == "audio/wav")
        #expect(DetectedMedia.mp3.contentType == "audio/mpeg")
        #expect(DetectedMedia.mp4.contentType == "video/mp4")
        #expect(DetectedMedia.jpeg.fileExtension == "jpg")
        #expect(DetectedMedia.mp3.fileExtension == "mp3")
        #expect(DetectedMedia.png.isImage && DetectedMedia.webp.isImage && DetectedMedia.jpeg.isImage)
        #expect(DetectedMedia.wav.isAudio && DetectedMedia.mp3.isAudio)
        #expect(DetectedMedia.mp4.isVideo && !DetectedMedia.mp4.isAudio)
    }

    /// Parses Content-Type headers with parameters, case and aliases.
    @Test(
        "parses Content-Type headers with parameters, case and aliases",
        arguments: [
            ("image/png", DetectedMedia.png),
            ("IMAGE/PNG", .png),
            ("image/jpeg; charset=binary", .jpeg),
            ("image/jpg", .jpeg),
            (" image/webp ", .webp),
            ("audio/wav", .wav),
            ("audio/x-wav", .wav),
            ("audio/wave", .wav),
            ("audio/vnd.wave;codec=1", .wav),
            ("audio/mpeg", .mp3),
            ("Audio/MP3", .mp3),
            ("video/mp4; codecs=\"avc1.42E01E\"", .mp4),
        ]
    )
    func contentTypes(header: String, expected: DetectedMedia) {
        #expect(DetectedMedia(contentType: header) == expected)
    }

    /// Rejects unknown Content-Types.
    @Test("rejects unknown Content-Types", arguments: ["", "text/html", "image/gif", "application/octet-stream", "image", "png", ";"])
    func unknownContentTypes(header: String) {
        #expect(DetectedMedia(contentType: header) == nil)
    }
}
