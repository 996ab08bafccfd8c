import Hummingbird

extension Assembly {
    /// Every public route, behind the error envelope: client routes behind the API key, `GET /metrics`
    /// and the health checks open, `/admin/v1/*` behind the admin key.
    static func router(
        _ configuration: ServiceConfiguration, tasks: TaskOperations, operators: OperatorConsole, metrics: ServiceMetrics
    ) -> Router<MediaJobsRequestContext> {
        let router = Router(context: MediaJobsRequestContext.self)
        router.add(middleware: HTTPMetricsMiddleware(metrics: metrics))
        router.add(middleware: APIErrorMiddleware())
        let dashboardSessions = configuration.operators.adminKey.map { _ in DashboardSessions(idle: configuration.operators.dashboardSessionIdle) }
        router.add(middleware: APIKeyAuthMiddleware(keys: APIKeyRing(keys: configuration.apiKeys.map(\.value)), dashboardSessions: dashboardSessions))
        let body = requestBody(configuration)
        HealthController(store: tasks.store, storage: tasks.storage, minimumFreeBytes: configuration.minimumFreeSpace.bytes).addRoutes(to: router)
        MusicController(service: tasks, body: body).addRoutes(to: router.group("suno"))
        ImagesController(service: tasks, body: body, syncWait: configuration.imageWait).addRoutes(to: router.group("v1/images"))
        VideosController(service: tasks, body: body, pruner: operators.pruner).addRoutes(to: router.group("v1"))
        TasksController(service: tasks).addRoutes(to: router.group("v1"))
        FilesController(service: tasks).addRoutes(to: router)

        MetricsController(store: operators.store, metrics: metrics).addRoutes(to: router)
        let admin = router.group("admin/v1").add(middleware: AdminAuthMiddleware(adminKey: configuration.operators.adminKey))
        AdminController(operators: operators, metrics: metrics, body: body).addRoutes(to: admin)
        WebhooksAdminController(webhooks: operators.webhooks).addRoutes(to: admin)
        if let adminKey = configuration.operators.adminKey, let dashboardSessions {
            do {
                try DashboardController<MediaJobsRequestContext>(
                    operators: operators, metrics: metrics, sessions: dashboardSessions, adminKey: adminKey, publicURL: configuration.effectivePublicURL,
                    throttle: LoginThrottle(
                        freeAttempts: configuration.operators.dashboardFreeLoginAttempts, firstWait: configuration.operators.dashboardFirstLoginWait)
                ).addRoutes(to: router)
            } catch {
                // The templates are compiled into the binary: one that does not parse is a bug (DashboardPagesTests), not a setting.
                preconditionFailure("the dashboard's built-in templates do not parse: \(error)")
            }
        }
        return router
    }
}
