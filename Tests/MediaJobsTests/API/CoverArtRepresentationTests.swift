import Foundation
import Testing

@testable import MediaJobs

/// `/suno/fetch` shows each track's stored cover art by our URL, never the provider's.
@Suite struct CoverArtRepresentationTests {
    static let urls = PublicURLs(baseURL: "http://127.0.0.1:8080")

    static func artifact(_ index: Int, _ type: String, source: String, imageURL: String? = nil, pruned: Bool = false) -> TaskArtifact {
        TaskArtifact(
            taskID: "suno_1", index: index, fileName: "\(index).\(type == "audio/wav" ? "wav" : "png")", contentType: type, bytes: 10,
            sha256: String(repeating: "a", count: 64), sourceURL: source, imageURL: imageURL, prunedAt: pruned ? Date() : nil)
    }

    static func record() -> TaskStatusRecord {
        TaskStatusRecord(id: "suno_1", kind: .music, status: .completed, progress: 100, failReason: nil, owner: nil, createdAt: Date(), finishedAt: Date())
    }

    @Test func tracksPointAtTheirStoredCovers() {
        let artifacts = [
            Self.artifact(0, "audio/wav", source: "http://up/a.wav", imageURL: "http://up/a.png"),
            Self.artifact(1, "audio/wav", source: "http://up/b.wav", imageURL: "http://up/b.png"),
            Self.artifact(2, "image/png", source: "http://up/a.png"),
            Self.artifact(3, "image/png", source: "http://up/b.png", pruned: true),
        ]
        let task = TaskRepresentations(publicURLs: Self.urls).suno(Self.record(), artifacts: artifacts)
        #expect(task.tracks.count == 2, "covers are not tracks")
        #expect(task.tracks.map(\.audioURL) == ["http://127.0.0.1:8080/files/suno_1/0.wav", "http://127.0.0.1:8080/files/suno_1/1.wav"])
        #expect(task.tracks[0].imageURL == "http://127.0.0.1:8080/files/suno_1/2.png")
        #expect(task.tracks[1].imageURL == nil, "a pruned cover is gone, like pruned audio")
    }

    @Test func tracksWithoutAStoredCoverKeepWhatTheyHad() {
        let artifacts = [
            Self.artifact(0, "audio/wav", source: "http://up/a.wav", imageURL: "http://up/a.png"),
            Self.artifact(1, "audio/wav", source: "http://up/b.wav"),
        ]
        let task = TaskRepresentations(publicURLs: Self.urls).suno(Self.record(), artifacts: artifacts)
        #expect(task.tracks.map(\.imageURL) == ["http://up/a.png", nil])
    }
}
