import Mustache

/// The dashboard's Mustache templates, compiled into the binary (a clean clone builds and serves
/// them with no resource files to find at run time).
///
/// Every value is written with `{{name}}`, which HTML-escapes it; the one `{{{content}}}` in the
/// layout takes a page this library rendered itself.
enum DashboardTemplates {
    /// All templates, registered by name.
    static func library() throws -> MustacheLibrary {
        var library = MustacheLibrary()
        for (name, text) in sources { try library.register(text, named: name) }
        return library
    }

    static let sources: [(String, String)] = [
        ("layout", layout), ("signin", signIn), ("overview", overview), ("tasks", tasks), ("task", task),
        ("webhooks", webhooks), ("storage", storage), ("message", message), ("deliveries", deliveries),
    ]

    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · MediaJobs</title>
        <link rel="icon" href="/dashboard/assets/icon.svg" type="image/svg+xml">
        <link rel="stylesheet" href="/dashboard/assets/dashboard.css">
        <script src="/dashboard/assets/dashboard.js" defer></script>
        </head>
        <body>
        <header class="top">
        <span class="brand">MediaJobs</span>
        {{#signedIn}}
        <nav aria-label="Dashboard">
        <ul>
        {{#nav}}<li><a href="{{href}}"{{#current}} aria-current="page"{{/current}}>{{label}}</a></li>{{/nav}}
        </ul>
        </nav>
        <form method="post" action="/dashboard/sign-out" class="sign-out">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <button type="submit" id="sign-out">Sign out</button>
        </form>
        {{/signedIn}}
        </header>
        <main id="main" tabindex="-1">
        {{#flash}}<p class="flash {{#isError}}error{{/isError}}" id="flash" role="status" tabindex="-1">{{text}}</p>{{/flash}}
        {{{content}}}
        </main>
        </body>
        </html>
        """

    static let signIn = """
        <h1>Sign in</h1>
        <form method="post" action="/dashboard/sign-in" class="card narrow" id="sign-in-form">
        <label for="admin-key">Admin key</label>
        <input type="password" id="admin-key" name="key" autocomplete="current-password" required autofocus>
        <button type="submit">Sign in</button>
        </form>
        """

    static let overview = """
        <h1>Overview</h1>
        <section id="overview" data-refresh="5" aria-live="polite">
        <p class="muted">As of <time id="generated-at" data-value="{{generatedAtSeconds}}">{{generatedAt}}</time>; refreshes every 5 seconds.</p>
        <div class="tiles">
        <div class="tile"><span class="label">In flight</span><span class="number" data-stat="in_flight" data-value="{{inFlight}}">{{inFlight}}</span></div>
        <div class="tile"><span class="label">Oldest queued</span><span class="number" data-stat="oldest_queued_age_seconds" data-value="{{oldestQueuedSeconds}}">{{oldestQueued}}</span></div>
        <div class="tile"><span class="label">Storage used</span><span class="number" data-stat="storage.bytes" data-value="{{storageBytes}}">{{storageHuman}}</span><span class="muted"><span data-stat="storage.files" data-value="{{storageFiles}}">{{storageFiles}}</span> files</span></div>
        <div class="tile"><span class="label">Storage free</span><span class="number" data-stat="disk_free_bytes" data-value="{{freeBytes}}">{{freeHuman}}</span></div>
        <div class="tile"><span class="label">Expired files</span><span class="number" data-stat="pruned.expired_files" data-value="{{expiredFiles}}">{{expiredFiles}}</span><span class="muted">{{expiredHuman}}</span></div>
        <div class="tile"><span class="label">Webhook backlog</span><span class="number" data-stat="webhooks.pending" data-value="{{webhookPending}}">{{webhookPending}}</span></div>
        <div class="tile"><span class="label">Dead letters</span><span class="number" data-stat="webhooks.dead" data-value="{{webhookDead}}">{{webhookDead}}</span></div>
        </div>
        <h2>Tasks by kind and status</h2>
        <div class="scroll">
        <table id="task-counts">
        <thead><tr><th scope="col">Kind</th>{{#statuses}}<th scope="col">{{.}}</th>{{/statuses}}<th scope="col">total</th></tr></thead>
        <tbody>
        {{#kinds}}<tr><th scope="row"><a href="/dashboard/tasks?kind={{name}}">{{name}}</a></th>{{#cells}}<td data-stat="{{stat}}" data-value="{{value}}">{{value}}</td>{{/cells}}</tr>{{/kinds}}
        </tbody>
        <tfoot><tr><th scope="row">all</th>{{#statusTotals}}<td data-stat="{{stat}}" data-value="{{value}}">{{value}}</td>{{/statusTotals}}</tr></tfoot>
        </table>
        </div>
        <h2>Webhook deliveries</h2>
        <ul class="inline">{{#webhooks}}<li>{{name}}: <span data-stat="{{stat}}" data-value="{{value}}">{{value}}</span></li>{{/webhooks}}</ul>
        </section>
        """

    static let tasks = """
        <h1>Tasks</h1>
        <form method="get" action="/dashboard/tasks" class="filters" id="task-filters">
        <label for="filter-kind">Kind</label>
        <select id="filter-kind" name="kind">{{#kinds}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/kinds}}</select>
        <label for="filter-status">Status</label>
        <select id="filter-status" name="status">{{#statuses}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/statuses}}</select>
        <button type="submit" id="apply-filters">Show</button>
        </form>
        <div class="scroll">
        <table id="task-list">
        <thead><tr><th scope="col">Task</th><th scope="col">Kind</th><th scope="col">Status</th><th scope="col">Progress</th><th scope="col">Prompt</th><th scope="col">Created</th></tr></thead>
        <tbody>
        {{#rows}}<tr data-task="{{id}}" data-kind="{{kind}}" data-status="{{status}}"><td><a href="/dashboard/tasks/{{id}}">{{id}}</a></td><td>{{kind}}</td><td><span class="status {{status}}">{{status}}</span></td><td>{{progress}} %</td><td class="prompt">{{prompt}}</td><td>{{created}}</td></tr>{{/rows}}
        {{^rows}}<tr><td colspan="6">No tasks match.</td></tr>{{/rows}}
        </tbody>
        </table>
        </div>
        <nav class="paging" aria-label="Pages">
        {{#isLaterPage}}<a href="{{firstURL}}" id="first-page">First page</a>{{/isLaterPage}}
        {{#nextURL}}<a href="{{nextURL}}" id="next-page" rel="next">Next page</a>{{/nextURL}}
        </nav>
        """

    static let task = """
        <h1>Task <code id="task-id">{{id}}</code></h1>
        <div class="actions">
        {{#canRetry}}<form method="post" action="/dashboard/tasks/{{id}}/retry" data-enhance><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" id="retry">Retry</button></form>{{/canRetry}}
        {{#canCancel}}<form method="post" action="/dashboard/tasks/{{id}}/cancel" data-enhance><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" id="cancel">Cancel</button></form>{{/canCancel}}
        </div>
        <dl class="facts">
        <dt>Kind</dt><dd>{{kind}} ({{model}})</dd>
        <dt>Status</dt><dd><span class="status {{status}}" id="task-status">{{status}}</span></dd>
        <dt>Progress</dt><dd><progress max="100" value="{{progress}}" aria-label="Progress">{{progress}} %</progress> {{progress}} %</dd>
        <dt>Attempts</dt><dd>{{attempts}}</dd>
        <dt>Created</dt><dd>{{created}}</dd>
        <dt>Updated</dt><dd>{{updated}}</dd>
        <dt>Finished</dt><dd>{{finished}}</dd>
        <dt>Deadline</dt><dd>{{deadline}}</dd>
        <dt>Provider polls</dt><dd id="polls">{{polls}}</dd>
        {{#nextPoll}}<dt>Next poll</dt><dd id="next-poll">{{nextPoll}}</dd>{{/nextPoll}}
        {{#failReason}}<dt>Fail reason</dt><dd id="fail-reason">{{failReason}}</dd>{{/failReason}}
        <dt>Prompt</dt><dd id="prompt" class="prompt">{{prompt}}</dd>
        </dl>
        <h2>Media</h2>
        {{#media}}
        <figure class="media">
        {{#isAudio}}<audio controls preload="metadata" src="{{src}}"></audio>{{/isAudio}}
        {{#isImage}}<img src="{{src}}" alt="Image {{index}} of this task">{{/isImage}}
        {{#isVideo}}<video controls preload="metadata" src="{{src}}"></video>{{/isVideo}}
        {{#isOther}}<a href="{{src}}">Download</a>{{/isOther}}
        {{#pruned}}<p>Removed by retention on {{pruned}}.</p>{{/pruned}}
        <figcaption>{{fileName}} · {{contentType}} · {{size}}{{#title}} · {{title}}{{/title}}</figcaption>
        </figure>
        {{/media}}
        {{^media}}<p>No stored files.</p>{{/media}}
        <h2>Webhook deliveries</h2>
        {{> deliveries}}
        <h2>Request</h2>
        <details open><summary>The task as the API shows it</summary><pre id="task-json">{{json}}</pre></details>
        """

    static let deliveries = """
        <div class="scroll">
        <table class="deliveries">
        <thead><tr><th scope="col">Id</th><th scope="col">Event</th><th scope="col">Task</th><th scope="col">Endpoint</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last answer</th><th scope="col">Created</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
        <tbody>
        {{#deliveries}}<tr data-delivery="{{id}}" data-status="{{status}}"><td>{{id}}</td><td>{{eventType}}</td><td><a href="/dashboard/tasks/{{taskID}}">{{taskID}}</a></td><td class="url">{{endpoint}}</td><td><span class="status {{status}}">{{status}}</span></td><td>{{attempts}}</td><td>{{lastAnswer}}</td><td>{{created}}</td>
        <td>{{#canRedeliver}}<form method="post" action="/dashboard/webhooks/{{id}}/redeliver" data-enhance><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" aria-label="Redeliver delivery {{id}}">Redeliver</button></form>{{/canRedeliver}}</td></tr>{{/deliveries}}
        {{^deliveries}}<tr><td colspan="9">No deliveries.</td></tr>{{/deliveries}}
        </tbody>
        </table>
        </div>
        """

    static let webhooks = """
        <h1>Webhooks</h1>
        <ul class="inline" id="delivery-counts">{{#counts}}<li><a href="/dashboard/webhooks?status={{name}}">{{name}}</a>: <span data-stat="{{stat}}" data-value="{{value}}">{{value}}</span></li>{{/counts}}</ul>
        <div class="actions">
        <form method="get" action="/dashboard/webhooks" class="filters">
        <label for="delivery-status">Status</label>
        <select id="delivery-status" name="status">{{#filters}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/filters}}</select>
        <button type="submit">Show</button>
        </form>
        {{#hasDead}}<form method="post" action="/dashboard/webhooks/redeliver-dead" data-enhance><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" id="redeliver-dead">Redeliver all {{deadCount}} dead</button></form>{{/hasDead}}
        </div>
        {{> deliveries}}
        <nav class="paging" aria-label="Pages">
        {{#isLaterPage}}<a href="{{firstURL}}" id="first-page">First page</a>{{/isLaterPage}}
        {{#nextURL}}<a href="{{nextURL}}" id="next-page" rel="next">Next page</a>{{/nextURL}}
        </nav>
        """

    static let storage = """
        <h1>Storage</h1>
        <div class="tiles">
        <div class="tile"><span class="label">Used</span><span class="number">{{usedHuman}}</span><span class="muted">{{usedFiles}} files</span></div>
        <div class="tile"><span class="label">Free</span><span class="number">{{freeHuman}}</span></div>
        <div class="tile"><span class="label">Expired</span><span class="number">{{expiredFiles}}</span><span class="muted">files removed by retention</span></div>
        </div>
        <h2>Prune</h2>
        <p>The options of <code>mediajobs prune</code>. A dry run shows what would go; then confirm it.</p>
        <form method="post" action="/dashboard/storage/prune" class="card" id="prune-form" data-enhance>
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="older-than">Remove files stored longer ago than (e.g. 30d)</label>
        <input id="older-than" name="older_than" value="{{olderThan}}">
        <label for="max-total-size">Remove the oldest files while more than (e.g. 50GB) is stored</label>
        <input id="max-total-size" name="max_total_size" value="{{maxTotalSize}}">
        <label for="prune-kind">Only of kind</label>
        <select id="prune-kind" name="kind">{{#kinds}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/kinds}}</select>
        <label for="delete-tasks-older-than">Delete records and files of tasks finished longer ago than (e.g. 180d)</label>
        <input id="delete-tasks-older-than" name="delete_tasks_older_than" value="{{deleteTasksOlderThan}}">
        <button type="submit" id="dry-run">Dry run</button>
        </form>
        {{#report}}
        <section class="card" id="prune-report" data-dry-run="{{dryRun}}">
        <h2>{{heading}}</h2>
        <dl class="facts">
        <dt>Files</dt><dd id="report-files">{{files}}</dd>
        <dt>Bytes</dt><dd id="report-bytes" data-value="{{bytes}}">{{bytesHuman}}</dd>
        <dt>Tasks deleted</dt><dd id="report-tasks">{{tasks}}</dd>
        <dt>Stored before</dt><dd>{{beforeHuman}}</dd>
        <dt>Stored after</dt><dd>{{afterHuman}}</dd>
        </dl>
        {{#dryRun}}
        <form method="post" action="/dashboard/storage/prune" data-enhance id="confirm-form">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <input type="hidden" name="older_than" value="{{olderThan}}">
        <input type="hidden" name="max_total_size" value="{{maxTotalSize}}">
        <input type="hidden" name="kind" value="{{kind}}">
        <input type="hidden" name="delete_tasks_older_than" value="{{deleteTasksOlderThan}}">
        <input type="hidden" name="confirm" value="yes">
        <button type="submit" id="confirm-prune" class="danger">Prune these {{files}} files now</button>
        </form>
        {{/dryRun}}
        <details><summary>Report</summary><pre>{{json}}</pre></details>
        </section>
        {{/report}}
        """

    static let message = """
        <h1>{{heading}}</h1>
        <p>{{text}}</p>
        <p><a href="/dashboard">Back to the dashboard</a></p>
        """
}
