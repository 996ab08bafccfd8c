import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

extension TestClientProtocol {
    /// Sends one request on a connection of its own: for answers that close their connection (a
    /// refused body, see ``RequestBodyLimit``), so the test's own client carries on.
    func executeOnOwnConnection(_ uri: String, method: HTTPRequest.Method, headers: HTTPFields = [:], body: ByteBuffer? = nil) async throws -> TestClient.Response {
        let port = try #require(port)
        return try await TestClient.withClient(host: "localhost", port: port) { client in
            try await client.execute(TestClient.Request(uri, method: method, authority: "localhost", headers: headers, body: body))
        }
    }

    /// POSTs a JSON body (given as text) on a connection of its own.
    func postOnOwnConnection(_ uri: String, json: String) async throws -> TestClient.Response {
        try await executeOnOwnConnection(uri, method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: json))
    }
}

extension TestClient.Response {
    func jsonObject() throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: Data(buffer: body ?? ByteBuffer()))
        return try #require(value as? [String: Any], "not a JSON object")
    }
}
