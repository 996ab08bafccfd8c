import Foundation
import Testing

@testable import MediaJobs

@Suite struct WebhookEndpointTests {
    @Test func parsesFiltersFromTheFragment() throws {
        let all = try #require(WebhookEndpoint(parsing: "https://a.example/hook"))
        #expect(all.events == nil && all.accepts(.completed))
        let some = try #require(WebhookEndpoint(parsing: "https://a.example/hook#task.failed+task.canceled"))
        #expect(some.url == "https://a.example/hook")
        #expect(!some.accepts(.completed) && some.accepts(.failed) && some.accepts(.canceled))
        #expect(WebhookEndpoint(parsing: "https://a.example/hook#task.exploded") == nil)
        #expect(WebhookEndpoint(parsing: "") == nil)
    }
}
