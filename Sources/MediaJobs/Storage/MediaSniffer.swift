import Foundation

/// A media format MediaJobs accepts, as identified by content sniffing or a Content-Type header.
public enum DetectedMedia: String, Sendable, CaseIterable {
    /// Portable Network Graphics.
    case png
    /// JPEG/JFIF/Exif image.
    case jpeg
    /// WebP image (RIFF container).
    case webp
    /// PCM (or other) WAVE audio (RIFF container).
    case wav
    /// MPEG audio (MP3), with or without an ID3v2 tag.
    case mp3
    /// ISO base media file (MP4 and relatives).
    case mp4

    /// The canonical MIME type to serve this media with.
    public var contentType: String {
        switch self {
        case .png: "image/png"
        case .jpeg: "image/jpeg"
        case .webp: "image/webp"
        case .wav: "audio/wav"
        case .mp3: "audio/mpeg"
        case .mp4: "video/mp4"
        }
    }

    /// The file extension (without dot) used when storing this media.
    public var fileExtension: String {
        switch self {
        case .png: "png"
        case .jpeg: "jpg"
        case .webp: "webp"
        case .wav: "wav"
        case .mp3: "mp3"
        case .mp4: "mp4"
        }
    }

    /// Whether this is a still-image format.
    public var isImage: Bool {
        switch self {
        case .png, .jpeg, .webp: true
        case .wav, .mp3, .mp4: false
        }
    }

    /// Whether this is an audio-only format.
    public var isAudio: Bool {
        switch self {
        case .wav, .mp3: true
        case .png, .jpeg, .webp, .mp4: false
        }
    }

    /// Whether this is a video format.
    public var isVideo: Bool {
        self == .mp4
    }

    /// Parses a Content-Type header value (parameters and case ignored, common aliases accepted).
    public init?(contentType: String) {
        let essence = contentType
            .split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)
            .first
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        switch essence {
        case "image/png": self = .png
        case "image/jpeg", "image/jpg": self = .jpeg
        case "image/webp": self = .webp
        case "audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave": self = .wav
        case "audio/mpeg", "audio/mp3": self = .mp3
        case "video/mp4": self = .mp4
        default: return nil
        }
    }
}

/// Identifies media by magic numbers, so stored files are typed by content rather than by what a client claimed.
public enum MediaSniffer {
    /// How many leading bytes `detect` needs to recognise every supported format.
    public static let prefixLength = 16

    /// ISO-BMFF major brands that denote still images (HEIF/AVIF), which must not be mistaken for MP4 video.
    private static let stillImageBrands: Set<String> = ["avif", "heic", "heix", "heim", "heis", "mif1"]

    /// Returns the media type indicated by the first bytes of a file, or nil if none matches.
    ///
    /// Shorter prefixes are fine; formats whose signature does not fit are simply not matched.
    public static func detect(_ prefix: [UInt8]) -> DetectedMedia? {
        let bytes = prefix.prefix(prefixLength)
        func matches(_ signature: [UInt8], at offset: Int = 0) -> Bool {
            guard bytes.count >= offset + signature.count else { return false }
            return bytes.dropFirst(offset).starts(with: signature)
        }

        if matches([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if matches([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if matches(Array("RIFF".utf8)) {
            if matches(Array("WEBP".utf8), at: 8) { return .webp }
            if matches(Array("WAVE".utf8), at: 8) { return .wav }
            return nil
        }
        if matches(Array("ftyp".utf8), at: 4) {
            let brand = String(decoding: bytes.dropFirst(8).prefix(4), as: UTF8.self).lowercased()
            return stillImageBrands.contains(brand) ? nil : .mp4
        }
        if matches(Array("ID3".utf8)) { return .mp3 }
        if isMPEGAudioFrameHeader(bytes) { return .mp3 }
        return nil
    }

    /// Checks an MPEG audio frame header, rejecting reserved field values so random 0xFF bytes rarely match.
    private static func isMPEGAudioFrameHeader(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard bytes.count >= 3 else { return false }
        let b0 = bytes[bytes.startIndex]
        let b1 = bytes[bytes.startIndex + 1]
        let b2 = bytes[bytes.startIndex + 2]
        guard b0 == 0xFF, b1 & 0xE0 == 0xE0 else { return false }
        let version = (b1 >> 3) & 0x03  // 01 is reserved
        let layer = (b1 >> 1) & 0x03  // 00 is reserved (and is how AAC ADTS headers look)
        let bitrateIndex = b2 >> 4  // 1111 is invalid
        let sampleRateIndex = (b2 >> 2) & 0x03  // 11 is reserved
        return version != 0b01 && layer != 0b00 && bitrateIndex != 0x0F && sampleRateIndex != 0b11
    }
}
