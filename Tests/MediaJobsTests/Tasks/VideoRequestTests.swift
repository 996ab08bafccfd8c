import Testing

@testable import MediaJobs

/// OpenAI's `seconds`/`size` and the provider's `duration`/`resolution`/`aspect_ratio` mapped to one request.
@Suite struct VideoRequestTests {
    static func map(
        seconds: String? = nil, size: String? = nil, duration: String? = nil, resolution: String? = nil, aspectRatio: String? = nil
    ) throws(VideoRequest.FieldError) -> VideoRequest {
        try VideoRequest.mapping(
            model: "grok-video-3", prompt: "p", seconds: seconds, size: size, duration: duration, resolution: resolution, aspectRatio: aspectRatio)
    }

    @Test func defaultsAreTheProviders() throws {
        let request = try Self.map()
        #expect(request == VideoRequest(model: "grok-video-3", prompt: "p", seconds: 8, resolution: .p480, aspectRatio: .landscape))
        #expect(request.size.description == "854x480")
    }

    @Test func secondsAndDurationAreTheSameField() throws {
        #expect(try Self.map(seconds: "4").seconds == 4)
        #expect(try Self.map(seconds: " 12 ").seconds == 12)
        #expect(try Self.map(duration: "15").seconds == 15)
        #expect(try Self.map(seconds: "1", duration: "1").seconds == 1)
        for bad in ["0", "16", "-3", "4.5", "four", ""] {
            #expect(throws: VideoRequest.FieldError.self) { try Self.map(seconds: bad) }
        }
        #expect(throws: VideoRequest.FieldError(param: "duration", message: "'seconds' and 'duration' disagree (4 and 8)")) {
            try Self.map(seconds: "4", duration: "8")
        }
    }

    @Test func sizeMapsToResolutionAndAspectRatio() throws {
        let cases: [(String, VideoRequest.Resolution, VideoRequest.AspectRatio, String)] = [
            ("1280x720", .p720, .landscape, "1280x720"),
            ("720x1280", .p720, .portrait, "720x1280"),
            ("1792x1024", .p720, .landscape, "1280x720"),
            ("1024x1792", .p720, .portrait, "720x1280"),
            ("854x480", .p480, .landscape, "854x480"),
            ("480x480", .p480, .square, "480x480"),
            ("1024x1024", .p720, .square, "720x720"),
            ("640x360", .p480, .landscape, "854x480"),
        ]
        for (size, resolution, ratio, rendered) in cases {
            let request = try Self.map(size: size)
            #expect(request.resolution == resolution, "\(size)")
            #expect(request.aspectRatio == ratio, "\(size)")
            #expect(request.size.description == rendered, "\(size)")
        }
        for bad in ["1280", "1280x", "x720", "wide", "1280x720x3", "10x10", "9000x720"] {
            #expect(throws: VideoRequest.FieldError.self) { try Self.map(size: bad) }
        }
    }

    @Test func providerFieldsWinOverSize() throws {
        let request = try Self.map(size: "1280x720", resolution: "480p", aspectRatio: "1:1")
        #expect(request.resolution == .p480)
        #expect(request.aspectRatio == .square)
        #expect(try Self.map(resolution: "720P").resolution == .p720)
        #expect(throws: VideoRequest.FieldError.self) { try Self.map(resolution: "1080p") }
        #expect(throws: VideoRequest.FieldError.self) { try Self.map(aspectRatio: "4:3") }
    }

    @Test func storedRequestRoundTrips() throws {
        let request = try Self.map(seconds: "12", size: "720x1280")
        let text = try JSONCoding.string(request)
        #expect(text.contains(#""aspect_ratio":"9:16""#))
        #expect(try JSONCoding.decode(VideoRequest.self, from: text) == request)
    }

    @Test func videoIDsCarryTheirPrefix() {
        let id = TaskID.make(kind: .video)
        #expect(id.hasPrefix("video_"))
        #expect(TaskID.kind(of: id) == .video)
    }
}
