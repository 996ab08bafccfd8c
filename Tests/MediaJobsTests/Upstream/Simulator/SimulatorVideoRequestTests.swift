import Foundation
import Testing

@testable import MediaJobs

/// The provider's video fields become a picture size and a duration; defaults as documented.
@Suite struct SimulatorVideoRequestTests {
    @Test(arguments: [
        ("480p", "16:9", 854, 480), ("480p", "9:16", 480, 854), ("480p", "1:1", 480, 480),
        ("720p", "16:9", 1280, 720), ("720p", "9:16", 720, 1280), ("720p", "1:1", 720, 720),
    ])
    func resolutionAndAspectRatioGiveTheSize(resolution: String, aspectRatio: String, width: Int, height: Int) throws {
        let size = try #require(SimulatorVideoRequest.size(resolution: resolution, aspectRatio: aspectRatio))
        #expect(size.width == width && size.height == height)
    }

    @Test func defaultsAreEightSecondsOf480pWidescreen() throws {
        let request = try SimulatorVideoRequest(json: Data(#"{"model":"grok-video-3","prompt":"waves"}"#.utf8))
        #expect(request.prompt == "waves" && request.seconds == 8 && request.width == 854 && request.height == 480)
    }

    @Test func durationMayComeAsDigits() throws {
        let request = try SimulatorVideoRequest(json: Data(#"{"model":"grok-video-3","prompt":"w","duration":"15","resolution":"720p","aspect_ratio":"1:1"}"#.utf8))
        #expect(request.seconds == 15 && request.width == 720 && request.height == 720)
    }

    @Test func videoMediaNamesRoundTrip() throws {
        let name = VideoMediaName(taskID: "task_ab-c", width: 854, height: 480, seconds: 5, variant: .thumbnail)
        #expect(name.fileName == "task_ab-c-854x480-5s.png")
        #expect(VideoMediaName(parsing: name.fileName) == name)
        #expect(VideoMediaName(parsing: "task_ab-c-854x480-5s.mp4")?.variant == .video)
    }
}
