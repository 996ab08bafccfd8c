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

    /// A fail reason comes from the upstream, a delivery's error and endpoint from other servers and
    /// clients: on the task page they are text, never markup.
    @Test func aHostileFailReasonAndDeliveryErrorAreText() throws {
        let hostile = "<img src=x onerror=alert(1)>\"'&"
        var task = MediaTask(id: "suno_1", request: .music(MusicRequest(prompt: "rain")), deadline: .seconds(60))
        task.status = .failed
        task.failReason = hostile
        let delivery = WebhookDelivery(
            id: 7, eventID: "evt_1", eventType: "task.failed", taskID: "suno_1", endpointURL: "https://client.example/\(hostile)", status: .dead,
            attempts: 1, nextAttemptAt: Date(), lastAttemptAt: Date(), lastResponseStatus: 500, lastError: hostile, createdAt: Date(), deliveredAt: nil)
        let detail = DashboardPages.TaskDetail(task: task, artifacts: [], deliveries: [delivery], json: "{}", csrf: "token")
        let html = try DashboardTemplates.library().render(detail, withTemplate: "task") ?? ""
        let escaped = "&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;"
        #expect(html.contains("<dd id=\"fail-reason\">\(escaped)</dd>"))
        #expect(html.contains("HTTP 500 · \(escaped)") && html.contains("https://client.example/\(escaped)"))
        #expect(!html.contains("<img src=x"))
        #expect(html.contains("id=\"retry\""), "a failed task can be retried")
    }

    @Test func pageLinksKeepTheFilterAndAddTheCursor() {
        typealias Controller = DashboardController<MediaJobsRequestContext>
        let first = Controller.pageURLs("/dashboard/webhooks", filter: [], nextAfter: nil)
        #expect(first.first == "/dashboard/webhooks" && first.next == nil)
        let urls = Controller.pageURLs("/dashboard/webhooks", filter: ["status=dead", "limit=2"], nextAfter: "41")
        #expect(urls.first == "/dashboard/webhooks?status=dead&limit=2" && urls.next == "/dashboard/webhooks?status=dead&limit=2&after=41")
        #expect(Controller.pageURLs("/dashboard/tasks", filter: [], nextAfter: "suno_a-b").next == "/dashboard/tasks?after=suno%5Fa%2Db")
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
