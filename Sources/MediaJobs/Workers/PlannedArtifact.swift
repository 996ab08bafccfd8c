/// One file the download step copies into storage: where from, under which index, and what it must be.
struct PlannedArtifact: Sendable, Equatable {
    /// The artifact's index (its file's base name): outputs first, then music cover art.
    var index: Int
    var url: String
    var expected: MediaClass
    /// The upstream output this file belongs to (titles, durations); nil fields for cover art.
    var output: UpstreamOutput

    /// The files of `task`, in download order: each output, and after a music track its cover
    /// art (`image_url`) under index `outputs.count + track`. Provider URLs expire, so the
    /// cover is kept like the audio; `TaskRepresentations.suno` finds it again by its source URL.
    static func plan(for task: MediaTask) -> [PlannedArtifact] {
        let outputs = task.upstreamOutputs
        var plan: [PlannedArtifact] = []
        for (index, output) in outputs.enumerated() {
            plan.append(PlannedArtifact(index: index, url: output.url, expected: .expected(kind: task.kind, outputIndex: index), output: output))
            if task.kind == .music, let cover = output.imageURL, !cover.isEmpty {
                plan.append(PlannedArtifact(index: outputs.count + index, url: cover, expected: .image, output: UpstreamOutput(url: cover)))
            }
        }
        return plan
    }
}
