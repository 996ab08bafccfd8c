import ArgumentParser
import Foundation
import MediaJobs

/// Signs S3 requests described as JSON lines on standard input and prints, per line, the
/// `Authorization` header and the presigned URL MediaJobs makes for it: how Tests/live/test_s3_signing.py
/// compares ``SigV4Signer`` with botocore on generated requests. Hidden: a test tool, not an operator command.
struct SignS3Requests: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sign-s3-requests", shouldDisplay: false)

    /// One request to sign.
    struct Input: Decodable {
        var method: String
        var host: String
        var path: String
        var query: [[String]]
        var headers: [[String]]
        var payloadHash: String
        var epochSeconds: Int64
        var accessKeyID: String
        var secretAccessKey: String
        var sessionToken: String?
        var region: String
        var expires: Int

        enum CodingKeys: String, CodingKey {
            case method, host, path, query, headers, region, expires
            case payloadHash = "payload_hash", epochSeconds = "epoch_seconds", accessKeyID = "access_key_id"
            case secretAccessKey = "secret_access_key", sessionToken = "session_token"
        }
    }

    /// What MediaJobs made of it.
    struct Output: Encodable {
        var authorization: String
        var presignedURL: String

        enum CodingKeys: String, CodingKey {
            case authorization
            case presignedURL = "presigned_url"
        }
    }

    func run() throws {
        let decoder = JSONDecoder()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        while let line = readLine(strippingNewline: true) {
            guard !line.isEmpty else { continue }
            let input = try decoder.decode(Input.self, from: Data(line.utf8))
            let signer = SigV4Signer(
                credentials: S3Credentials(accessKeyID: input.accessKeyID, secretAccessKey: input.secretAccessKey, sessionToken: input.sessionToken),
                region: input.region)
            let pairs = { (list: [[String]]) in list.map { (name: $0[0], value: $0.count > 1 ? $0[1] : "") } }
            let request = SigV4Request(method: input.method, host: input.host, path: input.path, query: pairs(input.query), headers: pairs(input.headers))
            let date = Date(timeIntervalSince1970: TimeInterval(input.epochSeconds))
            let headers = signer.signedHeaders(for: request, payloadHash: input.payloadHash, date: date)
            let output = Output(
                authorization: headers.first { $0.name == "authorization" }?.value ?? "",
                presignedURL: signer.presignedURL(for: SigV4Request(method: input.method, host: input.host, path: input.path, query: pairs(input.query)), scheme: "http", expires: input.expires, date: date))
            print(String(decoding: try encoder.encode(output), as: UTF8.self))
        }
    }
}
