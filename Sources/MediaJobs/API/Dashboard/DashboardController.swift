import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Mustache

/// `/dashboard`: the operators' pages, server-rendered, on top of the same ``OperatorConsole`` as
/// the admin API. Registered only when an admin key is configured (otherwise the paths are 404).
///
/// Pages need a session, started by signing in with the admin key (``DashboardSessions``); every
/// action is a `POST` carrying the session's form token and, from browsers, a same-origin `Origin`.
struct DashboardController<Context: RemoteAddressRequestContext> {
    let operators: OperatorConsole
    let metrics: ServiceMetrics
    let sessions: DashboardSessions
    let throttle: LoginThrottle
    /// SHA-256 of the admin key, compared in constant time as ``AdminAuthMiddleware`` does.
    let keyDigest: [UInt8]
    /// `Secure` on the cookie: the public URL is https.
    let secureCookie: Bool
    /// The public URL's origin, accepted in `Origin` besides the request's own host.
    let publicOrigin: String?
    let templates: MustacheLibrary

    static var cookieName: String { "mediajobs_session" }
    /// Tasks on one page unless `limit` (1…100) says otherwise.
    static var pageSize: Int { 25 }
    /// Webhook deliveries on one page unless `limit` (1…100) says otherwise.
    static var deliveriesPageSize: Int { 100 }
    /// Deliveries shown on a task's page: one per event and endpoint, so a handful in practice.
    static var deliveriesPerTask: Int { 100 }
    /// Forms are a few short fields; anything larger is not ours.
    static var maxFormBytes: Int { 16 * 1024 }
    static var contentSecurityPolicy: String {
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; connect-src 'self'; "
            + "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    }

    init(
        operators: OperatorConsole, metrics: ServiceMetrics, sessions: DashboardSessions, adminKey: String, publicURL: String,
        throttle: LoginThrottle = LoginThrottle()
    ) throws {
        self.operators = operators
        self.metrics = metrics
        self.sessions = sessions
        self.throttle = throttle
        self.keyDigest = Array(SHA256.hash(data: Data(adminKey.utf8)))
        self.secureCookie = publicURL.lowercased().hasPrefix("https://")
        self.publicOrigin = Self.origin(of: publicURL)
        self.templates = try DashboardTemplates.library()
    }

    func addRoutes(to router: Router<Context>) {
        router.get("dashboard", use: overview)
        router.get("dashboard/assets/dashboard.css") { _, _ in Self.asset(DashboardAssets.stylesheet, type: "text/css; charset=utf-8") }
        router.get("dashboard/assets/dashboard.js") { _, _ in Self.asset(DashboardAssets.script, type: "text/javascript; charset=utf-8") }
        router.get("dashboard/assets/icon.svg") { _, _ in Self.asset(DashboardAssets.icon, type: "image/svg+xml") }
        router.post("dashboard/sign-in", use: signIn)
        router.post("dashboard/sign-out", use: signOut)
        router.get("dashboard/tasks", use: tasks)
        router.get("dashboard/tasks/{id}", use: task)
        router.post("dashboard/tasks/{id}/retry", use: retry)
        router.post("dashboard/tasks/{id}/cancel", use: cancel)
        router.get("dashboard/webhooks", use: webhooks)
        router.post("dashboard/webhooks/redeliver-dead", use: redeliverDead)
        router.post("dashboard/webhooks/{id}/redeliver", use: redeliver)
        router.get("dashboard/storage", use: storage)
        router.post("dashboard/storage/prune", use: prune)
    }

    // MARK: Sign-in

    /// `GET /dashboard`: the overview, or the sign-in form without a session.
    @Sendable func overview(_ request: Request, context: Context) async throws -> Response {
        guard let session = sessions.session(request.cookies[Self.cookieName]?.value) else {
            return page("Sign in", template: "signin", DashboardPages.Message(heading: "", text: ""), session: nil)
        }
        return try await guarded(context) {
            page("Overview", template: "overview", DashboardPages.Overview(try await operators.stats()), session: session, current: "/dashboard")
        }
    }

    /// `POST /dashboard/sign-in` with `key`: a session and a redirect to the overview, or the form again saying why not.
    @Sendable func signIn(_ request: Request, context: Context) async throws -> Response {
        guard isSameOrigin(request) else { return refused("This form came from another site.") }
        let address = Self.clientAddress(context)
        // Checked and reserved at once: until this attempt is counted, another from the address waits.
        if let wait = throttle.begin(address) {
            let seconds = Int(wait.timeInterval.rounded(.up))
            return page(
                "Sign in", template: "signin", DashboardPages.Message(heading: "", text: ""), session: nil,
                flash: .init(text: "Too many wrong keys from your address: try again in \(seconds) s.", isError: true), status: .tooManyRequests)
        }
        let form: DashboardForm
        do {
            form = try await DashboardForm(request)
        } catch {
            throttle.abandoned(address)
            throw error
        }
        let digest = Array(SHA256.hash(data: Data((form["key"] ?? "").utf8)))
        guard AdminAuthMiddleware<Context>.constantTimeEqual(digest, keyDigest) else {
            throttle.failed(address)
            context.logger.notice("dashboard sign-in with a wrong admin key", metadata: ["client.address": "\(address)"])
            return page(
                "Sign in", template: "signin", DashboardPages.Message(heading: "", text: ""), session: nil,
                // 200: the form again, as any sign-in form answers (a 401 would ask for HTTP authentication).
                flash: .init(text: "That admin key is not valid.", isError: true))
        }
        throttle.succeeded(address)
        let session = sessions.start()
        context.logger.notice("dashboard session started", metadata: ["client.address": "\(address)"])
        var response = Response(status: .seeOther, headers: [.location: "/dashboard", .cacheControl: "no-store"])
        response.setCookie(sessionCookie(session.token))
        return response
    }

    /// `POST /dashboard/sign-out`: ends the session on the server and clears the cookie.
    @Sendable func signOut(_ request: Request, context: Context) async throws -> Response {
        try await action(request, context) { session, _ in
            sessions.end(session.token)
            var response = page(
                "Sign in", template: "signin", DashboardPages.Message(heading: "", text: ""), session: nil,
                flash: .init(text: "Signed out.", isError: false))
            response.setCookie(sessionCookie("", expired: true))
            return response
        }
    }

    // MARK: Tasks

    /// `GET /dashboard/tasks?kind=&status=&after=`: newest first, a page at a time.
    @Sendable func tasks(_ request: Request, context: Context) async throws -> Response {
        try await signedIn(request, context) { session in
            let parameters = request.uri.queryParameters
            let kind = parameters["kind"].flatMap { TaskKind(rawValue: String($0)) }
            let status = parameters["status"].flatMap { TaskStatus(rawValue: String($0)) }
            let after = parameters["after"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
            let limit = Self.limit(request)
            let page = try await operators.store.list(TaskQuery(kind: kind, status: status, after: after, limit: limit ?? Self.pageSize))
            var filter = [String]()
            if let kind { filter.append("kind=\(kind.rawValue)") }
            if let status { filter.append("status=\(status.rawValue)") }
            if let limit { filter.append("limit=\(limit)") }
            let urls = Self.pageURLs("/dashboard/tasks", filter: filter, nextAfter: page.hasMore ? page.tasks.last?.id : nil)
            let list = DashboardPages.TaskList(
                kinds: DashboardPages.options(TaskKind.allCases.map(\.rawValue), selected: kind?.rawValue),
                statuses: DashboardPages.options(TaskStatus.allCases.map(\.rawValue), selected: status?.rawValue),
                rows: page.tasks.map(DashboardPages.TaskRow.init), isLaterPage: after != nil, firstURL: urls.first, nextURL: urls.next)
            return self.page("Tasks", template: "tasks", list, session: session, current: "/dashboard/tasks")
        }
    }

    /// `GET /dashboard/tasks/{id}`: everything about one task, its media in place.
    @Sendable func task(_ request: Request, context: Context) async throws -> Response {
        try await signedIn(request, context) { session in
            try await taskPage(try context.parameters.require("id"), session: session, flash: nil)
        }
    }

    /// `POST /dashboard/tasks/{id}/retry`: a failed task back to the queue.
    @Sendable func retry(_ request: Request, context: Context) async throws -> Response {
        try await action(request, context) { session, _ in
            let id = try context.parameters.require("id")
            let flash: DashboardPages.Flash
            do {
                _ = try await operators.retry(id)
                flash = .init(text: "Task sent back to the queue.", isError: false)
            } catch TaskStoreError.conflict(_, let status) {
                flash = .init(text: "The task is \(status.rawValue); only failed tasks can be retried.", isError: true)
            }
            return try await taskPage(id, session: session, flash: flash)
        }
    }

    /// `POST /dashboard/tasks/{id}/cancel`: an unfinished task canceled.
    @Sendable func cancel(_ request: Request, context: Context) async throws -> Response {
        try await action(request, context) { session, _ in
            let id = try context.parameters.require("id")
            let flash: DashboardPages.Flash
            do {
                _ = try await operators.cancel(id)
                flash = .init(text: "Task canceled.", isError: false)
            } catch TaskStoreError.conflict(_, let status) {
                flash = .init(text: "The task is \(status.rawValue) already; only unfinished tasks can be canceled.", isError: true)
            }
            return try await taskPage(id, session: session, flash: flash)
        }
    }

    func taskPage(_ id: String, session: DashboardSessions.Session, flash: DashboardPages.Flash?) async throws -> Response {
        guard let (task, artifacts) = try await operators.task(id) else {
            return page("Not found", template: "message", DashboardPages.Message(heading: "Not found", text: "There is no task \(id)."), session: session, status: .notFound)
        }
        let deliveries = try await operators.webhooks.list(taskID: id, limit: Self.deliveriesPerTask)
        let detail = DashboardPages.TaskDetail(
            task: task, artifacts: artifacts, deliveries: deliveries, json: try operators.json(task, artifacts: artifacts), csrf: session.formToken)
        return page("Task \(id)", template: "task", detail, session: session, current: "/dashboard/tasks", flash: flash)
    }

    // MARK: Webhooks

    /// `GET /dashboard/webhooks?status=&after=&limit=`: deliveries by status, newest first, a page at a
    /// time; dead letters to send again.
    @Sendable func webhooks(_ request: Request, context: Context) async throws -> Response {
        try await signedIn(request, context) { session in
            let parameters = request.uri.queryParameters
            let filter = parameters["status"].flatMap { WebhookDeliveryFilter(rawValue: String($0)) } ?? .all
            let after = parameters["after"].flatMap { Int64(String($0)) }
            return try await webhooksPage(filter, after: after, limit: Self.limit(request), session: session, flash: nil)
        }
    }

    /// `POST /dashboard/webhooks/{id}/redeliver`.
    @Sendable func redeliver(_ request: Request, context: Context) async throws -> Response {
        try await action(request, context) { session, _ in
            let text = try context.parameters.require("id")
            let flash: DashboardPages.Flash
            if let id = Int64(text), let delivery = try await operators.webhooks.redeliver(id: id) {
                context.logger.notice("webhook redelivery requested on the dashboard", metadata: ["webhook.delivery": "\(id)", "webhook.id": "\(delivery.eventID)"])
                flash = .init(text: "Delivery \(id) scheduled again.", isError: false)
            } else {
                flash = .init(text: "There is no webhook delivery \(text).", isError: true)
            }
            return try await webhooksPage(.all, after: nil, limit: nil, session: session, flash: flash)
        }
    }

    /// `POST /dashboard/webhooks/redeliver-dead`.
    @Sendable func redeliverDead(_ request: Request, context: Context) async throws -> Response {
        try await action(request, context) { session, _ in
            let count = try await operators.webhooks.redeliverAllDead()
            context.logger.notice("redelivery of dead webhooks requested on the dashboard", metadata: ["webhook.count": "\(count)"])
            return try await webhooksPage(.all, after: nil, limit: nil, session: session, flash: .init(text: "\(count) dead deliveries scheduled again.", isError: false))
        }
    }

    /// The deliveries page: `limit` (default ``deliveriesPageSize``) deliveries older than the one with id `after`.
    func webhooksPage(
        _ filter: WebhookDeliveryFilter, after: Int64?, limit: Int?, session: DashboardSessions.Session, flash: DashboardPages.Flash?
    ) async throws -> Response {
        let counts = try await operators.webhooks.counts()
        let size = limit ?? Self.deliveriesPageSize
        // One more than shown says whether a next page exists.
        let found = try await operators.webhooks.list(filter, after: after, limit: size + 1)
        let deliveries = found.prefix(size)
        var query = filter == .all ? [] : ["status=\(filter.rawValue)"]
        if let limit { query.append("limit=\(limit)") }
        let urls = Self.pageURLs("/dashboard/webhooks", filter: query, nextAfter: found.count > size ? deliveries.last.map { String($0.id) } : nil)
        let dead = counts[.dead] ?? 0
        let view = DashboardPages.Webhooks(
            counts: WebhookDelivery.Status.allCases.map { .init(name: $0.rawValue, stat: "webhooks.by_status.\($0.rawValue)", value: String(counts[$0] ?? 0)) },
            filters: WebhookDeliveryFilter.allCases.map { .init(value: $0.rawValue, label: $0.rawValue, selected: $0 == filter) },
            deliveries: deliveries.map(DashboardPages.DeliveryRow.init), deadCount: dead, hasDead: dead > 0,
            isLaterPage: after != nil, firstURL: urls.first, nextURL: urls.next, csrf: session.formToken)
        return page("Webhooks", template: "webhooks", view, session: session, current: "/dashboard/webhooks", flash: flash)
    }

    // MARK: Storage

    /// `GET /dashboard/storage`: what is stored, and the prune form.
    @Sendable func storage(_ request: Request, context: Context) async throws -> Response {
        try await signedIn(request, context) { session in
            let view = DashboardPages.Storage(stats: try await operators.stats(), fields: .init(), report: nil, csrf: session.formToken)
            return page("Storage", template: "storage", view, session: session, current: "/dashboard/storage")
        }
    }

    /// `POST /dashboard/storage/prune`: a dry run, unless `confirm=yes` (sent by the form the dry run shows).
    @Sendable func prune(_ request: Request, context: Context) async throws -> Response {
        try await action(request, context) { session, form in
            var fields = DashboardPages.PruneFields()
            fields.olderThan = form.trimmed("older_than")
            fields.maxTotalSize = form.trimmed("max_total_size")
            fields.kind = form.trimmed("kind")
            fields.deleteTasksOlderThan = form.trimmed("delete_tasks_older_than")
            let dryRun = form["confirm"] != "yes"
            func nonEmpty(_ text: String) -> String? { text.isEmpty ? nil : text }
            var report: PruneReport?
            var flash: DashboardPages.Flash
            do {
                let policy = try PrunePolicy(
                    olderThan: nonEmpty(fields.olderThan), maxTotalSize: nonEmpty(fields.maxTotalSize), kind: nonEmpty(fields.kind),
                    deleteTasksOlderThan: nonEmpty(fields.deleteTasksOlderThan))
                guard !policy.isEmpty else { throw RetentionError.nothingToDo }
                do {
                    report = try await operators.pruner.run(policy, dryRun: dryRun)
                } catch {
                    metrics.pruneFailed(trigger: "admin")
                    throw error
                }
                if let report {
                    metrics.pruneRun(report, trigger: "admin")
                    context.logger.notice(
                        "prune requested on the dashboard",
                        metadata: ["prune.dry_run": "\(dryRun)", "prune.files": "\(report.removed.files)", "prune.bytes": "\(report.removed.bytes)"])
                }
                flash = dryRun
                    ? .init(text: "Dry run: nothing was removed. Check the numbers below, then confirm.", isError: false)
                    : .init(text: "Pruned \(report?.removed.files ?? 0) files.", isError: false)
            } catch let error as RetentionError {
                flash = .init(text: Self.explain(error), isError: true)
            }
            let reportView = try report.map { DashboardPages.PruneReportView($0, fields: fields, csrf: session.formToken, json: try OperatorConsole.json($0)) }
            let view = DashboardPages.Storage(stats: try await operators.stats(), fields: fields, report: reportView, csrf: session.formToken)
            return page("Storage", template: "storage", view, session: session, current: "/dashboard/storage", flash: flash)
        }
    }

    static func explain(_ error: RetentionError) -> String {
        switch error {
        case .nothingToDo: "Give at least one of: files older than, maximum total size, or tasks older than."
        case .invalidOption: error.description
        }
    }

    // MARK: Sessions, checks and rendering

    /// Runs `body` for a signed-in browser; without a session, back to the sign-in form.
    func signedIn(
        _ request: Request, _ context: Context, _ body: (DashboardSessions.Session) async throws -> Response
    ) async throws -> Response {
        guard let session = sessions.session(request.cookies[Self.cookieName]?.value) else {
            return Response(status: .seeOther, headers: [.location: "/dashboard", .cacheControl: "no-store"])
        }
        return try await guarded(context) { try await body(session) }
    }

    /// Runs an action for a signed-in browser whose form carries the session's token and whose
    /// `Origin`, when sent, is this server: a page on another site can neither read the token nor
    /// send the cookie (`SameSite=Strict`).
    func action(
        _ request: Request, _ context: Context, _ body: (DashboardSessions.Session, DashboardForm) async throws -> Response
    ) async throws -> Response {
        guard isSameOrigin(request) else { return refused("This form came from another site.") }
        guard let session = sessions.session(request.cookies[Self.cookieName]?.value) else {
            return Response(status: .seeOther, headers: [.location: "/dashboard", .cacheControl: "no-store"])
        }
        let form = try await DashboardForm(request)
        guard let token = form["csrf"], AdminAuthMiddleware<Context>.constantTimeEqual(Array(token.utf8), Array(session.formToken.utf8)) else {
            return refused("This form is out of date: reload the page and try again.")
        }
        return try await guarded(context) { try await body(session, form) }
    }

    /// A failure as a page (the store away, say) rather than the API's JSON envelope; the detail goes to the log only.
    func guarded(_ context: Context, _ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let error as StoreUnavailable {
            context.logger.error("dashboard page failed: database unavailable", metadata: ["error": "\(error)"])
            return page("Unavailable", template: "message", DashboardPages.Message(heading: "Unavailable", text: "The database cannot be reached; try again in a few seconds."), session: nil, status: .serviceUnavailable)
        } catch {
            context.logger.error("dashboard page failed", metadata: ["error": "\(String(reflecting: error))"])
            return page("Error", template: "message", DashboardPages.Message(heading: "Something went wrong", text: "The server could not do this; its log says why."), session: nil, status: .internalServerError)
        }
    }

    func refused(_ text: String) -> Response {
        page("Refused", template: "message", DashboardPages.Message(heading: "Refused", text: text), session: nil, status: .forbidden)
    }

    /// `Origin`, when present, must be this server as the browser reached it, or the public URL.
    func isSameOrigin(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin] else { return true }
        if let authority = request.head.authority, origin == "http://\(authority)" || origin == "https://\(authority)" { return true }
        return origin == publicOrigin
    }

    /// A page in the layout, with the headers every dashboard page carries.
    func page(
        _ title: String, template: String, _ content: Any, session: DashboardSessions.Session?, current: String = "",
        flash: DashboardPages.Flash? = nil, status: HTTPResponse.Status = .ok
    ) -> Response {
        let body = templates.render(content, withTemplate: template) ?? ""
        let layout = DashboardPages.Layout(
            title: title, signedIn: session != nil, csrf: session?.formToken ?? "", nav: DashboardPages.nav(current: current), flash: flash, content: body)
        let html = templates.render(layout, withTemplate: "layout") ?? ""
        var headers = Self.securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static var securityHeaders: HTTPFields {
        var headers = HTTPFields()
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        // "same-origin", not "no-referrer": with the latter, browsers send `Origin: null` on form posts, which the origin check refuses.
        headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        return headers
    }

    static func asset(_ text: String, type: String) -> Response {
        var headers = securityHeaders
        headers[.contentType] = type
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    func sessionCookie(_ value: String, expired: Bool = false) -> Cookie {
        // Path=/ so that /files requests of the task pages carry it too.
        Cookie(
            name: Self.cookieName, value: value, maxAge: expired ? 0 : nil, path: "/", secure: secureCookie, httpOnly: true, sameSite: .strict)
    }

    /// A list page's `limit` query parameter, when it is 1…100.
    static func limit(_ request: Request) -> Int? {
        request.uri.queryParameters["limit"].flatMap { Int(String($0)) }.flatMap { (1...100).contains($0) ? $0 : nil }
    }

    /// A list's first page (`path` with its `filter` query) and, when `nextAfter` names the last row
    /// shown, the next page: the same with `after=` that row's id.
    static func pageURLs(_ path: String, filter: [String], nextAfter: String?) -> (first: String, next: String?) {
        let first = path + (filter.isEmpty ? "" : "?" + filter.joined(separator: "&"))
        let next = nextAfter.map { first + (filter.isEmpty ? "?" : "&") + "after=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "") }
        return (first, next)
    }

    static func clientAddress(_ context: Context) -> String {
        context.remoteAddress?.ipAddress ?? "unknown"
    }

    /// `scheme://host[:port]` of a URL, as browsers write `Origin`.
    static func origin(of url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), let host = components.host else { return nil }
        let shownHost = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return components.port.map { "\(scheme)://\(shownHost):\($0)" } ?? "\(scheme)://\(shownHost)"
    }
}
