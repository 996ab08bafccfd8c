import Foundation
import Testing

@testable import MediaJobs

@Suite struct DashboardPagesTests {
    static func artifact(_ contentType: String, pruned: Date? = nil) -> TaskArtifact {
        TaskArtifact(
            taskID: "suno_1", index: 0, fileName: "0.bin", contentType: contentType, bytes: 1234, sha256: "00", sourceURL: "http://upstream/x",
            prunedAt: pruned)
    }

    @Test func everyTemplateParses() throws {
        let library = try DashboardTemplates.library()
        for (name, _) in DashboardTemplates.sources { #expect(library.getTemplate(named: name) != nil, "\(name)") }
    }

    @Test(arguments: [("audio/mpeg", "<audio controls"), ("image/png", "<img src"), ("video/mp4", "<video controls"), ("application/octet-stream", ">Download</a>")])
    func mediaGetTheElementOfTheirContentType(contentType: String, element: String) throws {
        let media = DashboardPages.Media(Self.artifact(contentType))
        #expect(media.src == "/files/suno_1/0.bin")
        #expect([media.isAudio, media.isImage, media.isVideo, media.isOther].filter { $0 }.count == 1)
        var task = MediaTask(id: "suno_1", request: .music(MusicRequest(prompt: "<b>hi</b>")), deadline: .seconds(60))
        task.status = .completed
        let detail = DashboardPages.TaskDetail(task: task, artifacts: [Self.artifact(contentType)], deliveries: [], json: "{}", csrf: "token")
        let html = try DashboardTemplates.library().render(detail, withTemplate: "task") ?? ""
        #expect(html.contains(element), "\(contentType) should render \(element)")
        #expect(html.contains("=\"/files/suno_1/0.bin\""))
        #expect(html.contains("&lt;b&gt;hi&lt;/b&gt;") && !html.contains("<b>hi"))
        #expect(!html.contains("id=\"retry\"") && !html.contains("id=\"cancel\""), "a completed task has no actions")
    }

    @Test func prunedMediaAreNotEmbedded() {
        let media = DashboardPages.Media(Self.artifact("audio/mpeg", pruned: Date()))
        #expect(!media.isAudio && !media.isOther && media.pruned != nil)
    }

    @Test func valuesFromRequestsAreEscaped() throws {
        let library = try DashboardTemplates.library()
        let hostile = "<script>alert(1)</script>\"'&"
        let message = library.render(DashboardPages.Message(heading: hostile, text: hostile), withTemplate: "message") ?? ""
        #expect(!message.contains("<script>"))
        #expect(message.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"))
    }

    @Test func formsDecodeLikeBrowsersEncode() {
        let form = DashboardForm(encoded: "key=a+b%26c%3D&csrf=x&csrf=y&empty=&older_than=%2030d%20")
        #expect(form["key"] == "a b&c=")
        #expect(form["csrf"] == "x", "a repeated field keeps its first value")
        #expect(form["empty"] == "")
        #expect(form.trimmed("older_than") == "30d")
        #expect(form["missing"] == nil)
    }

    @Test func originsAreWrittenAsBrowsersSendThem() {
        typealias Controller = DashboardController<MediaJobsRequestContext>
        #expect(Controller.origin(of: "https://jobs.example.com/base/") == "https://jobs.example.com")
        #expect(Controller.origin(of: "http://127.0.0.1:8080") == "http://127.0.0.1:8080")
        #expect(Controller.origin(of: "http://[::1]:9000") == "http://[::1]:9000")
    }
}
