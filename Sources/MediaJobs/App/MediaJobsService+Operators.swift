import Hummingbird
import Logging
import ServiceLifecycle

extension MediaJobsService {
    /// The operator routes: `GET /metrics` (open, like the health checks) and `/admin/v1/*` behind the admin key.
    static func addOperatorRoutes(
        to router: Router<MediaJobsRequestContext>, operators: OperatorService, settings: OperatorSettings, metrics: ServiceMetrics,
        body: JSONRequestBody
    ) {
        MetricsController(store: operators.store, metrics: metrics).addRoutes(to: router)
        let admin = router.group("admin/v1").add(middleware: AdminAuthMiddleware(adminKey: settings.adminKey))
        AdminController(operators: operators, metrics: metrics, body: body).addRoutes(to: admin)
        WebhooksAdminController(webhooks: operators.webhooks).addRoutes(to: admin)
    }

    /// The automatic retention service, when a policy is set.
    static func retentionService(settings: OperatorSettings, pruner: Pruner, metrics: ServiceMetrics, logger: Logger) -> (any Service)? {
        guard let policy = settings.retention, !policy.isEmpty else { return nil }
        var retentionLogger = logger
        retentionLogger[metadataKey: "component"] = "retention"
        return RetentionService(
            pruner: pruner, policy: policy, interval: settings.retentionInterval, metrics: metrics, clock: ContinuousClock(), logger: retentionLogger)
    }
}
