import Testing

@testable import MediaJobs

/// Which files the download step copies, under which index, checked as what.
@Suite struct PlannedArtifactTests {
    @Test func musicTracksAreFollowedByTheirCoverArt() {
        var task = MediaTask(request: .music(MusicRequest(prompt: "rain")), deadline: .seconds(60))
        task.upstreamOutputs = [
            UpstreamOutput(url: "http://up/a.wav", title: "A", imageURL: "http://up/a.png"),
            UpstreamOutput(url: "http://up/b.wav", title: "B", imageURL: ""),
            UpstreamOutput(url: "http://up/c.wav", title: "C", imageURL: "http://up/c.png"),
        ]
        let plan = PlannedArtifact.plan(for: task)
        #expect(plan.map(\.index) == [0, 3, 1, 2, 5])
        #expect(plan.map(\.url) == ["http://up/a.wav", "http://up/a.png", "http://up/b.wav", "http://up/c.wav", "http://up/c.png"])
        #expect(plan.map(\.expected) == [.audio, .image, .audio, .audio, .image])
        // A cover is its own artifact: no track metadata, its source URL is the track's image_url.
        #expect(plan[1].output == UpstreamOutput(url: "http://up/a.png"))
    }

    @Test func aVideoIsTheMP4ThenItsPoster() {
        var task = MediaTask(request: .video(VideoRequest(prompt: "waves")), deadline: .seconds(60))
        task.upstreamOutputs = [UpstreamOutput(url: "http://up/v.mp4"), UpstreamOutput(url: "http://up/v.png")]
        let plan = PlannedArtifact.plan(for: task)
        #expect(plan.map(\.index) == [0, 1])
        #expect(plan.map(\.expected) == [.video, .image])
    }

    @Test func mediaClassesAdmitOnlyTheirFormats() {
        #expect(MediaClass.video.admits(.mp4) && !MediaClass.video.admits(.png))
        #expect(MediaClass.image.admits(.png) && !MediaClass.image.admits(.mp4))
        #expect(MediaClass.audio.admits(.wav) && MediaClass.audio.admits(.mp3) && !MediaClass.audio.admits(.mp4))
    }
}
