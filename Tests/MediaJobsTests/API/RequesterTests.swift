import Testing

@testable import MediaJobs

/// The one API-key check of both paths.
@Suite struct RequesterTests {
    static let keys = APIKeyRing(keys: ["key-a", "key-b"])

    @Test func anOpenAPIAdmitsAnyoneWithoutAnOwner() throws {
        let open = APIKeyRing(keys: [])
        for header in [nil, "Bearer whatever", "garbage"] {
            let requester = Requester(authorization: header, keys: open)
            #expect(requester == .anyone)
            #expect(try requester.admission.get() == nil)
        }
    }

    @Test func aValidKeyIsAdmittedAsItsOwner() throws {
        let requester = Requester(authorization: "Bearer key-b", keys: Self.keys)
        #expect(requester == .owner(APIKeyRing.owner(of: "key-b")))
        #expect(try requester.admission.get() == APIKeyRing.owner(of: "key-b"))
        #expect(Requester(authorization: "bearer  key-a ", keys: Self.keys) == .owner(APIKeyRing.owner(of: "key-a")))
    }

    @Test func missingAndInvalidKeysAreDistinct401s() {
        for (header, expected, code) in [
            (nil, Requester.missingKey, "missing_api_key"), ("Basic a2V5LWE=", .missingKey, "missing_api_key"), ("Bearer ", .missingKey, "missing_api_key"),
            ("Bearer key-c", .invalidKey, "invalid_api_key"),
        ] as [(String?, Requester, String)] {
            let requester = Requester(authorization: header, keys: Self.keys)
            #expect(requester == expected, "\(String(describing: header))")
            guard case .failure(let refusal) = requester.admission else {
                Issue.record("admitted: \(String(describing: header))")
                continue
            }
            #expect(refusal.status == .unauthorized)
            #expect(refusal.code == code)
            #expect(refusal.headers[.wwwAuthenticate] == "Bearer realm=\"mediajobs\"")
        }
    }
}
