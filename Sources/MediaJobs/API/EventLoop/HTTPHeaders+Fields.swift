import HTTPTypes
import NIOHTTP1

extension HTTPHeaders {
    /// NIO's headers for `fields`, with room for `extra` more: answers written on the event loop
    /// reuse what the router's code computed as `HTTPFields`.
    init(_ fields: HTTPFields, reservingExtra extra: Int = 0) {
        self.init()
        reserveCapacity(fields.count + extra)
        for field in fields { add(name: field.name.rawName, value: field.value) }
    }
}
