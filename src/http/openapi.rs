//! `GET /api/v1/openapi.json`: an OpenAPI 3.1 description of every route of
//! [`super::routes::ROUTES`], its requests, responses and errors. Built once, in code;
//! `tests/openapi.rs` checks it against the route table and the running server.

use super::Body;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{header, Response};
use serde_json::{json, Map, Value};
use std::sync::OnceLock;

/// The document as served.
pub fn response() -> Response<Body> {
    static BYTES: OnceLock<Bytes> = OnceLock::new();
    let bytes = BYTES.get_or_init(|| Bytes::from(document().to_string()));
    let mut resp = Response::new(Full::new(bytes.clone()));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    resp
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn response_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/responses/{name}") })
}

/// A JSON response with a schema.
fn json_ok(description: &str, schema: Value) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": schema } },
    })
}

fn json_request(schema: &str) -> Value {
    json!({
        "required": true,
        "content": { "application/json": { "schema": schema_ref(schema) } },
    })
}

fn path_param(name: &str, description: &str, schema: Value) -> Value {
    json!({
        "name": name,
        "in": "path",
        "required": true,
        "description": description,
        "schema": schema,
    })
}

fn query_param(name: &str, description: &str, schema: Value) -> Value {
    json!({
        "name": name,
        "in": "query",
        "required": false,
        "description": description,
        "schema": schema,
    })
}

fn pool_id_param() -> Value {
    path_param("id", "The pool id.", schema_ref("HexId"))
}

fn hex_id_param(what: &str) -> Value {
    path_param("id", &format!("The {what} id."), schema_ref("HexId"))
}

/// One operation. `errors` are names of `components/responses`, keyed by status.
struct Op {
    id: String,
    tag: &'static str,
    summary: &'static str,
    admin: bool,
    params: Vec<Value>,
    body: Option<Value>,
    responses: Vec<(&'static str, Value)>,
    errors: &'static [&'static str],
}

impl Op {
    fn new(id: &'static str, tag: &'static str, summary: &'static str) -> Self {
        Self::new_owned(id.to_string(), tag, summary)
    }
    fn new_owned(id: String, tag: &'static str, summary: &'static str) -> Self {
        Op {
            id,
            tag,
            summary,
            admin: false,
            params: Vec::new(),
            body: None,
            responses: Vec::new(),
            errors: &[],
        }
    }
    fn admin(mut self) -> Self {
        self.admin = true;
        self
    }
    fn param(mut self, p: Value) -> Self {
        self.params.push(p);
        self
    }
    fn body(mut self, b: Value) -> Self {
        self.body = Some(b);
        self
    }
    fn ok(mut self, status: &'static str, r: Value) -> Self {
        self.responses.push((status, r));
        self
    }
    fn errors(mut self, e: &'static [&'static str]) -> Self {
        self.errors = e;
        self
    }
    fn build(self) -> Value {
        let mut responses = Map::new();
        for (status, r) in self.responses {
            responses.insert(status.into(), r);
        }
        let mut errors: Vec<&str> = self.errors.to_vec();
        if self.admin {
            errors.extend(["Unauthorized", "Unavailable"]);
        }
        errors.push("MethodNotAllowed");
        for e in errors {
            let status = match e {
                "BadRequest" => "400",
                "Unauthorized" => "401",
                "Forbidden" => "403",
                "NotFound" => "404",
                "MethodNotAllowed" => "405",
                "Conflict" => "409",
                "PayloadTooLarge" => "413",
                "UnsupportedMediaType" => "415",
                "TooManyRequests" => "429",
                "ServerError" => "500",
                "Unavailable" => "503",
                other => unreachable!("unknown error response {other}"),
            };
            responses.insert(status.into(), response_ref(e));
        }
        let mut op = json!({
            "operationId": self.id,
            "tags": [self.tag],
            "summary": self.summary,
            "responses": responses,
        });
        if !self.params.is_empty() {
            op["parameters"] = Value::Array(self.params);
        }
        if let Some(b) = self.body {
            op["requestBody"] = b;
        }
        if self.admin {
            op["security"] = json!([{ "adminToken": [] }]);
        }
        op
    }
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    let mut add = |path: &str, method: &str, op: Op| {
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[method] = op.build();
    };

    // Operations.
    add(
        "/healthz",
        "get",
        Op::new("healthz", "operations", "Liveness: the process answers.").ok(
            "200",
            json_ok(
                "Alive.",
                json!({"type": "object", "properties": {"status": {"const": "ok"}}}),
            ),
        ),
    );
    add(
        "/readyz",
        "get",
        Op::new(
            "readyz",
            "operations",
            "Readiness: 503 while starting or shutting down.",
        )
        .ok(
            "200",
            json_ok(
                "Ready.",
                json!({"type": "object", "properties": {"status": {"const": "ready"}}}),
            ),
        )
        .errors(&["Unavailable"]),
    );
    add(
        "/metrics",
        "get",
        Op::new(
            "metrics",
            "operations",
            "Prometheus metrics (text format 0.0.4). No auth; not subject to admission control.",
        )
        .ok(
            "200",
            json!({
                "description": "Every dnid_* metric.",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }),
        ),
    );
    let demo = |id| {
        Op::new(
            id,
            "operations",
            "The demo page (`dnid serve --demo`); 404 `not_found` when the demo is off.",
        )
        .ok(
            "200",
            json!({"description": "The page.", "content": {"text/html": {"schema": {"type": "string"}}}}),
        )
        .errors(&["NotFound"])
    };
    add("/demo", "get", demo("demoPage"));
    add("/demo", "head", demo("demoPageHead"));
    // The web admin: static files (its data comes from the admin API, with the token).
    for (path, content_type, what) in [
        ("/admin", "text/html", "The web admin's page."),
        (
            "/admin/app.js",
            "text/javascript",
            "The web admin's script.",
        ),
        ("/admin/app.css", "text/css", "The web admin's style sheet."),
        (
            "/admin/favicon.svg",
            "image/svg+xml",
            "The web admin's icon.",
        ),
    ] {
        let name = path.trim_start_matches("/admin").trim_start_matches('/');
        let name = match name {
            "" => "Page".to_string(),
            n => n.replace('.', "_"),
        };
        for method in ["get", "head"] {
            let id = format!(
                "admin{}{name}",
                if method == "get" { "Get" } else { "Head" }
            );
            add(
                path,
                method,
                Op::new_owned(id, "admin-ui", what)
                    .param(json!({
                        "name": "If-None-Match", "in": "header", "required": false,
                        "description": "An ETag from an earlier answer: 304 if unchanged.",
                        "schema": {"type": "string"},
                    }))
                    .ok(
                        "200",
                        json!({
                            "description": "The file (Cache-Control: no-cache, a strong ETag, a strict Content-Security-Policy).",
                            "headers": {"ETag": {"schema": {"type": "string"}}},
                            "content": {content_type: {"schema": {"type": "string"}}},
                        }),
                    )
                    .ok("304", json!({"description": "Not modified."})),
            );
        }
    }
    add(
        "/api/v1/openapi.json",
        "get",
        Op::new(
            "openapi",
            "operations",
            "This document (OpenAPI 3.1). No auth.",
        )
        .ok(
            "200",
            json_ok("The OpenAPI document.", json!({"type": "object"})),
        ),
    );

    // Public tracking endpoints.
    let snippet = |id| {
        Op::new(
            id,
            "tracking",
            "The tracking snippet (JavaScript), with a strong ETag.",
        )
        .param(json!({
            "name": "If-None-Match", "in": "header", "required": false,
            "description": "An ETag from an earlier answer: 304 if unchanged.",
            "schema": {"type": "string"},
        }))
        .ok(
            "200",
            json!({
                "description": "The snippet.",
                "headers": {"ETag": {"schema": {"type": "string"}}},
                "content": {"application/javascript": {"schema": {"type": "string"}}},
            }),
        )
        .ok("304", json!({"description": "Not modified."}))
    };
    add("/api/v1/tracking/snippet.js", "get", snippet("getSnippet"));
    add(
        "/api/v1/tracking/snippet.js",
        "head",
        snippet("headSnippet"),
    );
    let preflight = |id| {
        Op::new(id, "tracking", "CORS preflight.").ok(
            "204",
            json!({
                "description": "Allowed methods and headers.",
                "headers": {
                    "Access-Control-Allow-Origin": {"schema": {"type": "string"}},
                    "Access-Control-Allow-Methods": {"schema": {"type": "string"}},
                    "Access-Control-Allow-Headers": {"schema": {"type": "string"}},
                },
            }),
        )
    };
    add(
        "/api/v1/tracking/sessions",
        "post",
        Op::new(
            "newSession",
            "tracking",
            "Start or resume a visitor session: lease a number (or answer the fallback, nothing, or the target number for bots). The Origin, when sent, must be the pool's website or a subdomain.",
        )
        .body(json_request("NewSessionRequest"))
        .ok("200", json_ok("The number to show.", schema_ref("SessionReply")))
        .errors(&[
            "BadRequest",
            "Forbidden",
            "NotFound",
            "PayloadTooLarge",
            "TooManyRequests",
            "Unavailable",
        ]),
    );
    add(
        "/api/v1/tracking/sessions",
        "options",
        preflight("newSessionPreflight"),
    );
    let session_param = || {
        path_param(
            "session_id",
            "The session id from a tracking answer.",
            json!({"type": "string"}),
        )
    };
    add(
        "/api/v1/tracking/sessions/{session_id}/pageviews",
        "post",
        Op::new(
            "pageView",
            "tracking",
            "A page view or heartbeat: renews the lease (or leases again after expiry).",
        )
        .param(session_param())
        .body(json_request("PageViewRequest"))
        .ok(
            "200",
            json_ok("The number to show.", schema_ref("SessionReply")),
        )
        .errors(&["BadRequest", "NotFound", "PayloadTooLarge", "Unavailable"]),
    );
    add(
        "/api/v1/tracking/sessions/{session_id}/pageviews",
        "options",
        preflight("pageViewPreflight").param(session_param()),
    );

    // Pools.
    add(
        "/api/v1/pools",
        "get",
        Op::new(
            "listPools",
            "pools",
            "Every pool with its figures; `needs_more_numbers` flags pools whose recommended size is above their size.",
        )
        .admin()
        .ok(
            "200",
            json_ok(
                "The pools, by id.",
                json!({
                    "type": "object",
                    "required": ["pools"],
                    "properties": {"pools": {"type": "array", "items": {"oneOf": [
                        schema_ref("Pool"), schema_ref("PoolFailure")
                    ]}}},
                }),
            ),
        ),
    );
    add(
        "/api/v1/pools",
        "post",
        Op::new(
            "createPool",
            "pools",
            "Create a pool, optionally with numbers.",
        )
        .admin()
        .body(json_request("PoolCreate"))
        .ok(
            "201",
            json_ok("The new pool, with its numbers.", schema_ref("Pool")),
        )
        .errors(&["BadRequest", "Conflict", "PayloadTooLarge"]),
    );
    add(
        "/api/v1/pools/{id}",
        "get",
        Op::new("getPool", "pools", "A pool with its numbers.")
            .admin()
            .param(pool_id_param())
            .ok("200", json_ok("The pool.", schema_ref("Pool")))
            .errors(&["NotFound"]),
    );
    add(
        "/api/v1/pools/{id}",
        "patch",
        Op::new(
            "updatePool",
            "pools",
            "Change settings; `null` clears an optional one, an absent field is kept.",
        )
        .admin()
        .param(pool_id_param())
        .body(json_request("PoolPatch"))
        .ok(
            "200",
            json_ok("The pool (without its numbers).", schema_ref("Pool")),
        )
        .errors(&["BadRequest", "NotFound", "PayloadTooLarge"]),
    );
    add(
        "/api/v1/pools/{id}",
        "delete",
        Op::new("deletePool", "pools", "Delete a pool and its leases.")
            .admin()
            .param(pool_id_param())
            .ok("204", json!({"description": "Deleted."}))
            .errors(&["NotFound"]),
    );
    add(
        "/api/v1/pools/{id}/numbers",
        "post",
        Op::new(
            "addNumbers",
            "pools",
            "Add tracking numbers (all or nothing).",
        )
        .admin()
        .param(pool_id_param())
        .body(json_request("NumberList"))
        .ok(
            "200",
            json_ok(
                "Added.",
                json!({
                    "type": "object",
                    "required": ["added", "numbers_total"],
                    "properties": {
                        "added": {"type": "integer", "minimum": 0},
                        "numbers_total": {"type": "integer", "minimum": 0},
                    },
                }),
            ),
        )
        .errors(&["BadRequest", "NotFound", "Conflict", "PayloadTooLarge"]),
    );
    add(
        "/api/v1/pools/{id}/numbers/{number}",
        "delete",
        Op::new(
            "removeNumber",
            "pools",
            "Remove a number: at once when free (or with force), else it drains until its lease ends.",
        )
        .admin()
        .param(pool_id_param())
        .param(path_param(
            "number",
            "The number, E.164 (percent-encode the `+` as %2B) or a national form.",
            json!({"type": "string"}),
        ))
        .param(query_param(
            "force",
            "Remove at once even when leased.",
            json!({"type": "boolean", "default": false}),
        ))
        .ok(
            "200",
            json_ok(
                "Removed or draining.",
                json!({
                    "type": "object",
                    "required": ["number", "status"],
                    "properties": {
                        "number": schema_ref("E164"),
                        "status": {"enum": ["removed", "draining"]},
                    },
                }),
            ),
        )
        .errors(&["BadRequest", "NotFound"]),
    );
    add(
        "/api/v1/pools/{id}/sessions",
        "get",
        Op::new(
            "listSessions",
            "pools",
            "Live sessions, least recently active first, with number, expiry and attribution.",
        )
        .admin()
        .param(pool_id_param())
        .param(query_param(
            "limit",
            "At most this many.",
            json!({"type": "integer", "minimum": 1, "maximum": 10000, "default": 100}),
        ))
        .ok(
            "200",
            json_ok(
                "The sessions.",
                json!({
                    "type": "object",
                    "required": ["sessions"],
                    "properties": {"sessions": {"type": "array", "items": schema_ref("LiveSession")}},
                }),
            ),
        )
        .errors(&["BadRequest", "NotFound"]),
    );
    add(
        "/api/v1/pools/{id}/sessions/{session_id}",
        "delete",
        Op::new("endSession", "pools", "End a session's lease now.")
            .admin()
            .param(pool_id_param())
            .param(session_param())
            .ok("204", json!({"description": "Ended."}))
            .errors(&["NotFound"]),
    );
    add(
        "/api/v1/pools/{id}/stats",
        "get",
        Op::new(
            "poolStats",
            "pools",
            "Figures for sizing: size, live leases, utilization, peaks over the last hour/day/week, exhausted answers, time above 80 % and the recommended size.",
        )
        .admin()
        .param(pool_id_param())
        .ok("200", json_ok("The figures.", schema_ref("PoolStats")))
        .errors(&["NotFound"]),
    );

    // Snapshots.
    add(
        "/api/v1/snapshots",
        "post",
        Op::new("takeSnapshot", "snapshots", "Take a snapshot now.")
            .admin()
            .ok("201", json_ok("Written.", schema_ref("SnapshotTaken")))
            .errors(&["ServerError"]),
    );
    add(
        "/api/v1/snapshots",
        "get",
        Op::new("listSnapshots", "snapshots", "Snapshots on disk, newest first.")
            .admin()
            .ok(
                "200",
                json_ok(
                    "The snapshots.",
                    json!({
                        "type": "object",
                        "required": ["snapshots"],
                        "properties": {"snapshots": {"type": "array", "items": schema_ref("SnapshotFile")}},
                    }),
                ),
            )
            .errors(&["ServerError"]),
    );

    // Call flows.
    add(
        "/api/v1/call-flows",
        "post",
        Op::new("createCallFlow", "calls", "Create a call flow.")
            .admin()
            .body(json_request("CallFlowCreate"))
            .ok("201", json_ok("The call flow.", schema_ref("CallFlow")))
            .errors(&["BadRequest", "PayloadTooLarge"]),
    );
    add(
        "/api/v1/call-flows",
        "get",
        Op::new("listCallFlows", "calls", "Every call flow.")
            .admin()
            .ok(
                "200",
                json_ok(
                    "The call flows.",
                    json!({
                        "type": "object",
                        "required": ["call_flows"],
                        "properties": {"call_flows": {"type": "array", "items": schema_ref("CallFlow")}},
                    }),
                ),
            ),
    );
    add(
        "/api/v1/call-flows/{id}",
        "get",
        Op::new("getCallFlow", "calls", "A call flow.")
            .admin()
            .param(hex_id_param("call flow"))
            .ok("200", json_ok("The call flow.", schema_ref("CallFlow")))
            .errors(&["NotFound"]),
    );
    add(
        "/api/v1/call-flows/{id}",
        "patch",
        Op::new(
            "updateCallFlow",
            "calls",
            "Change a call flow; absent fields are kept.",
        )
        .admin()
        .param(hex_id_param("call flow"))
        .body(json_request("CallFlowPatch"))
        .ok("200", json_ok("The call flow.", schema_ref("CallFlow")))
        .errors(&["BadRequest", "NotFound", "PayloadTooLarge"]),
    );
    add(
        "/api/v1/call-flows/{id}",
        "delete",
        Op::new(
            "deleteCallFlow",
            "calls",
            "Delete a call flow (409 `call_flow_in_use` while a pool uses it).",
        )
        .admin()
        .param(hex_id_param("call flow"))
        .ok("204", json!({"description": "Deleted."}))
        .errors(&["NotFound", "Conflict"]),
    );

    // Calls.
    add(
        "/api/v1/calls",
        "get",
        Op::new(
            "listCalls",
            "calls",
            "The call log, newest first, in pages (`next_cursor`), or every match as CSV with `format=csv`.",
        )
        .admin()
        .param(query_param("pool_id", "Only this pool's calls.", schema_ref("HexId")))
        .param(query_param(
            "from",
            "Calls that started at or after (RFC 3339 or unix seconds).",
            json!({"type": "string"}),
        ))
        .param(query_param(
            "to",
            "Calls that started before (RFC 3339 or unix seconds).",
            json!({"type": "string"}),
        ))
        .param(query_param("status", "Attribution status.", schema_ref("CallStatus")))
        .param(query_param("caller", "The caller's number.", json!({"type": "string"})))
        .param(query_param(
            "cursor",
            "The `next_cursor` of the previous page.",
            json!({"type": "string"}),
        ))
        .param(query_param(
            "limit",
            "Page size.",
            json!({"type": "integer", "minimum": 1, "maximum": 1000, "default": 50}),
        ))
        .param(query_param(
            "format",
            "`csv` for a CSV file of every match.",
            json!({"enum": ["json", "csv"], "default": "json"}),
        ))
        .ok(
            "200",
            json!({
                "description": "A page of calls, or the CSV file.",
                "content": {
                    "application/json": {"schema": {
                        "type": "object",
                        "required": ["calls", "next_cursor"],
                        "properties": {
                            "calls": {"type": "array", "items": schema_ref("Call")},
                            "next_cursor": {"type": ["string", "null"]},
                        },
                    }},
                    "text/csv": {"schema": {"type": "string"}},
                },
            }),
        )
        .errors(&["BadRequest"]),
    );
    add(
        "/api/v1/calls",
        "post",
        Op::new(
            "recordCall",
            "calls",
            "A call from any telephony platform: logged with its attribution.",
        )
        .admin()
        .body(json_request("InboundCall"))
        .ok("201", json_ok("The call as logged.", schema_ref("Call")))
        .errors(&["BadRequest", "NotFound", "PayloadTooLarge"]),
    );
    add(
        "/api/v1/calls/{id}",
        "get",
        Op::new("getCall", "calls", "One call.")
            .admin()
            .param(hex_id_param("call"))
            .ok("200", json_ok("The call.", schema_ref("Call")))
            .errors(&["NotFound"]),
    );

    // Webhooks.
    add(
        "/api/v1/webhooks",
        "post",
        Op::new(
            "createWebhook",
            "webhooks",
            "Subscribe a URL to a pool's calls; deliveries are signed (HMAC-SHA256) with the secret, shown only here.",
        )
        .admin()
        .body(json_request("WebhookCreate"))
        .ok("201", json_ok("The webhook, with its secret.", schema_ref("Webhook")))
        .errors(&["BadRequest", "NotFound", "PayloadTooLarge"]),
    );
    add(
        "/api/v1/webhooks",
        "get",
        Op::new(
            "listWebhooks",
            "webhooks",
            "Every webhook (without secrets).",
        )
        .admin()
        .ok(
            "200",
            json_ok(
                "The webhooks.",
                json!({
                    "type": "object",
                    "required": ["webhooks"],
                    "properties": {"webhooks": {"type": "array", "items": schema_ref("Webhook")}},
                }),
            ),
        ),
    );
    add(
        "/api/v1/webhooks/{id}",
        "delete",
        Op::new(
            "deleteWebhook",
            "webhooks",
            "Delete a webhook; its pending deliveries fail.",
        )
        .admin()
        .param(hex_id_param("webhook"))
        .ok("204", json!({"description": "Deleted."}))
        .errors(&["NotFound"]),
    );
    add(
        "/api/v1/webhooks/deliveries",
        "get",
        Op::new("listDeliveries", "webhooks", "Recent webhook deliveries.")
            .admin()
            .param(query_param(
                "limit",
                "At most this many.",
                json!({"type": "integer", "minimum": 1, "maximum": 10000, "default": 100}),
            ))
            .ok(
                "200",
                json_ok(
                    "The deliveries.",
                    json!({
                        "type": "object",
                        "required": ["deliveries"],
                        "properties": {"deliveries": {"type": "array", "items": schema_ref("Delivery")}},
                    }),
                ),
            )
            .errors(&["BadRequest"]),
    );
    add(
        "/api/v1/webhooks/deliveries/{id}/retry",
        "post",
        Op::new("retryDelivery", "webhooks", "Try a delivery again now.")
            .admin()
            .param(hex_id_param("delivery"))
            .ok("202", json_ok("Queued.", schema_ref("Delivery")))
            .errors(&["NotFound"]),
    );

    // Telephony.
    let twilio = |id, summary, form: &str| {
        Op::new(id, "telephony", summary)
            .param(json!({
                "name": "X-Twilio-Signature", "in": "header", "required": false,
                "description": "Checked when a Twilio auth token is configured (DNID_TWILIO_AUTH_TOKEN); 403 `invalid_signature` when wrong.",
                "schema": {"type": "string"},
            }))
            .body(json!({
                "required": true,
                "content": {"application/x-www-form-urlencoded": {"schema": schema_ref(form)}},
            }))
            .ok(
                "200",
                json!({
                    "description": "TwiML.",
                    "content": {"text/xml": {"schema": {"type": "string"}}},
                }),
            )
            .errors(&[
                "BadRequest",
                "Forbidden",
                "NotFound",
                "PayloadTooLarge",
                "UnsupportedMediaType",
                "Unavailable",
            ])
    };
    add(
        "/api/v1/telephony/twilio/voice",
        "post",
        twilio(
            "twilioVoice",
            "Twilio voice webhook: logs the call with its attribution and answers TwiML that dials the pool's call flow (a polite message for a number that is not ours).",
            "TwilioVoiceForm",
        ),
    );
    add(
        "/api/v1/telephony/twilio/status",
        "post",
        twilio(
            "twilioStatus",
            "Twilio status callback (or `<Dial action>`): the call's outcome and duration.",
            "TwilioStatusForm",
        ),
    );

    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "dnid",
            "version": env!("CARGO_PKG_VERSION"),
            "summary": "Dynamic Number Insertion: tracking numbers leased to web sessions, calls attributed to them.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "tags": [
            {"name": "operations", "description": "Health, metrics, documentation."},
            {"name": "admin-ui", "description": "The web admin (static files; it signs in with the admin token)."},
            {"name": "tracking", "description": "Public endpoints the snippet calls (CORS, no auth)."},
            {"name": "pools", "description": "Pools, numbers, sessions, figures (admin)."},
            {"name": "snapshots", "description": "Snapshots of the state (admin)."},
            {"name": "calls", "description": "Call flows and the call log (admin)."},
            {"name": "webhooks", "description": "Post-call webhooks (admin)."},
            {"name": "telephony", "description": "Provider webhooks (Twilio)."},
        ],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "adminToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The admin token: DNID_ADMIN_TOKEN, or generated on first start into <data-dir>/admin_token.",
                },
            },
            "responses": error_responses(),
            "schemas": schemas(),
        },
    })
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": schema_ref("Error")}},
    })
}

fn error_responses() -> Value {
    json!({
        "BadRequest": error_response("The request is wrong: `malformed_json`, `invalid_request`, `invalid_number`, `invalid_setting`, `invalid_pool_id`, `invalid_session_id`, `invalid_query`, `invalid_time`, `invalid_url`, `field_too_long`, `missing_field`, `too_many_numbers`, `body_unreadable`; `field` names the field."),
        "Unauthorized": error_response("`unauthorized`: the admin token is missing or wrong."),
        "Forbidden": error_response("`forbidden`, `origin_not_allowed` (the Origin is not the pool's website), `invalid_signature` (Twilio)."),
        "NotFound": error_response("`not_found` (no such endpoint), `pool_not_found`, `session_not_found`, `number_not_found`, `call_flow_not_found`, `call_not_found`, `webhook_not_found`, `delivery_not_found`."),
        "MethodNotAllowed": error_response("`method_not_allowed`: the endpoint does not take that method."),
        "Conflict": error_response("`duplicate_number`, `number_in_other_pool`, `call_flow_in_use`."),
        "PayloadTooLarge": error_response("`body_too_large`: the body is over the limit (admin 1 MiB, public 16 KiB by default)."),
        "UnsupportedMediaType": error_response("`unsupported_media_type`: Twilio posts are application/x-www-form-urlencoded."),
        "TooManyRequests": {
            "description": "`rate_limited`: too many new sessions from this client address.",
            "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}},
            "content": {"application/json": {"schema": schema_ref("Error")}},
        },
        "ServerError": error_response("`internal`, `snapshot_failed`, `snapshot_dir_unreadable`."),
        "Unavailable": {
            "description": "`overloaded` (too many requests in flight), `pool_unavailable`, `timeout`, `storage_unavailable` (the change was not saved), `shutting_down`, `not_ready`.",
            "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}},
            "content": {"application/json": {"schema": schema_ref("Error")}},
        },
    })
}

fn nullable(t: &str) -> Value {
    json!({"type": [t, "null"]})
}

fn schemas() -> Value {
    let time = json!({"type": "string", "format": "date-time"});
    let time_or_null = json!({"type": ["string", "null"], "format": "date-time"});
    let count = json!({"type": "integer", "minimum": 0});
    let sizing_fields = [
        (
            "peak_active_1h",
            "Most live leases at once in the last 60 minutes.",
        ),
        (
            "peak_active_24h",
            "Most live leases at once in the last 24 clock hours (current included).",
        ),
        (
            "peak_active_7d",
            "Most live leases at once in the last 168 clock hours (current included).",
        ),
        (
            "exhausted_1h",
            "Answers without a number in the last 60 minutes.",
        ),
        (
            "exhausted_24h",
            "Answers without a number in the last 24 clock hours.",
        ),
        (
            "exhausted_7d",
            "Answers without a number in the last 168 clock hours.",
        ),
        (
            "secs_above_80pct_1h",
            "Seconds above 80 % utilization in the last 60 minutes.",
        ),
        (
            "secs_above_80pct_24h",
            "Seconds above 80 % utilization in the last 24 clock hours.",
        ),
        (
            "secs_above_80pct_7d",
            "Seconds above 80 % utilization in the last 168 clock hours.",
        ),
    ];
    let mut stats_props = json!({
        "pool_id": schema_ref("HexId"),
        "numbers_total": count,
        "numbers_free": count,
        "active_sessions": count,
        "draining": count,
        "utilization": {"type": "number", "minimum": 0, "maximum": 1},
        "peak_active": {"type": "integer", "minimum": 0, "description": "Most live leases at once since the pool was created."},
        "exhausted": {"type": "integer", "minimum": 0, "description": "Answers without a number (fallback, no_swap) since the pool was created."},
        "recommended_size": {"type": "integer", "minimum": 0, "description": "ceil(1.25 × peak_active_7d); when visitors were turned away in the last week (exhausted_7d > 0), at least ceil(1.25 × numbers_total) and at least numbers_total + 1."},
        "needs_more_numbers": {"type": "boolean", "description": "recommended_size > numbers_total."},
        "counters": schema_ref("Counters"),
        "at": time,
    });
    for (name, description) in sizing_fields {
        stats_props[name] = json!({"type": "integer", "minimum": 0, "description": description});
    }
    let mut stats_required: Vec<&str> = vec![
        "pool_id",
        "numbers_total",
        "numbers_free",
        "active_sessions",
        "draining",
        "utilization",
        "peak_active",
        "exhausted",
        "recommended_size",
        "needs_more_numbers",
        "counters",
        "at",
    ];
    stats_required.extend(sizing_fields.iter().map(|(n, _)| *n));
    let counter_names = [
        "assigned_new",
        "sticky",
        "renewed",
        "regranted",
        "reassigned",
        "recycled",
        "fallback",
        "no_swap",
        "bots",
        "expired",
        "released",
        "peak_active",
    ];
    let counters: Map<String, Value> = counter_names
        .iter()
        .map(|n| (n.to_string(), count.clone()))
        .collect();
    let attribution: Map<String, Value> = crate::engine::Field::ALL
        .iter()
        .map(|f| (f.name().to_string(), nullable("string")))
        .collect();
    let call_session = json!({
        "type": ["object", "null"],
        "properties": {
            "session_id": {"type": "string"},
            "first_seen": time,
            "last_seen": time,
            "duration_secs": count,
            "pages_viewed": count,
            "attribution": schema_ref("Attribution"),
        },
    });
    let mut m = Map::new();
    m.insert("Error".into(), json!({
            "type": "object",
            "required": ["error"],
            "properties": {"error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "description": "Stable, machine-readable."},
                    "message": {"type": "string", "description": "For people."},
                    "field": {"type": "string", "description": "The request field the error is about."},
                },
            }},
        }));
    m.insert("HexId".into(), json!({"type": "string", "pattern": "^[0-9a-f]{16}$", "description": "A server-made id: 16 lowercase hex digits."}));
    m.insert("E164".into(), json!({"type": "string", "pattern": "^\\+[1-9][0-9]{7,14}$", "description": "A phone number in E.164."}));
    m.insert("PhoneInput".into(), json!({"type": "string", "description": "A phone number, E.164 or a national/formatted form (normalised)."}));
    m.insert(
        "ExhaustionPolicy".into(),
        json!({"enum": ["fallback", "recycle_oldest", "no_swap"]}),
    );
    m.insert("AssignResult".into(), json!({"enum": ["new", "sticky", "renewed", "regranted", "reassigned", "recycled", "fallback", "no_swap", "bot"]}));
    m.insert(
        "CallStatus".into(),
        json!({"enum": ["attributed", "late", "ambiguous", "fallback", "unattributed"]}),
    );
    m.insert("NewSessionRequest".into(), json!({
            "type": "object",
            "required": ["pool_id", "page_url"],
            "properties": {
                "pool_id": schema_ref("HexId"),
                "session_id": {"type": ["string", "null"], "description": "The id of an earlier answer, to keep the same number."},
                "page_url": {"type": "string", "minLength": 1, "maxLength": 2048, "description": "The page's URL: its query string gives UTM parameters and click ids."},
                "referrer": {"type": ["string", "null"], "maxLength": 2048},
            },
            "description": "Unknown fields are ignored (a cached snippet may be newer than the server).",
        }));
    m.insert("PageViewRequest".into(), json!({
            "type": "object",
            "properties": {
                "page_url": {"type": ["string", "null"], "maxLength": 2048},
                "heartbeat": {"type": "boolean", "default": false, "description": "Keep the lease without counting a page."},
            },
        }));
    m.insert("SessionReply".into(), json!({
            "type": "object",
            "required": ["session_id", "number", "formatted", "expires_at", "leased", "result"],
            "properties": {
                "session_id": {"type": "string"},
                "number": {"type": ["string", "null"], "description": "E.164; null when the page must stay as it is (no_swap)."},
                "formatted": nullable("string"),
                "expires_at": time_or_null,
                "leased": {"type": "boolean"},
                "reason": {"enum": ["exhausted", "bot"], "description": "Why no number was leased."},
                "result": schema_ref("AssignResult"),
            },
        }));
    m.insert("PoolCreate".into(), json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["name", "website_url", "target_number"],
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 200},
                "website_url": {"type": "string"},
                "target_number": schema_ref("PhoneInput"),
                "fallback_number": {"type": ["string", "null"]},
                "call_flow_id": {"type": ["string", "null"]},
                "session_timeout_secs": {"type": "integer", "minimum": 60, "maximum": 86400, "default": 1800},
                "attribution_window_secs": {"type": "integer", "minimum": 0, "maximum": 604800, "default": 3600},
                "exhaustion_policy": schema_ref("ExhaustionPolicy"),
                "numbers": {"type": "array", "items": schema_ref("PhoneInput"), "maxItems": 10000},
            },
        }));
    m.insert(
        "PoolPatch".into(),
        json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 200},
                "website_url": {"type": "string"},
                "target_number": schema_ref("PhoneInput"),
                "fallback_number": {"type": ["string", "null"]},
                "call_flow_id": {"type": ["string", "null"]},
                "session_timeout_secs": {"type": "integer", "minimum": 60, "maximum": 86400},
                "attribution_window_secs": {"type": "integer", "minimum": 0, "maximum": 604800},
                "exhaustion_policy": schema_ref("ExhaustionPolicy"),
            },
        }),
    );
    m.insert("Pool".into(), json!({
            "type": "object",
            "required": ["id", "name", "website_url", "target_number", "fallback_number", "call_flow_id", "session_timeout_secs", "attribution_window_secs", "exhaustion_policy", "numbers_total", "numbers_free", "active_sessions", "utilization", "exhausted", "recommended_size", "needs_more_numbers"],
            "properties": {
                "id": schema_ref("HexId"),
                "name": {"type": "string"},
                "website_url": {"type": "string"},
                "target_number": schema_ref("E164"),
                "fallback_number": nullable("string"),
                "call_flow_id": nullable("string"),
                "session_timeout_secs": count,
                "attribution_window_secs": count,
                "exhaustion_policy": schema_ref("ExhaustionPolicy"),
                "numbers_total": count,
                "numbers_free": count,
                "active_sessions": count,
                "utilization": {"type": "number", "minimum": 0, "maximum": 1},
                "exhausted": count,
                "recommended_size": count,
                "needs_more_numbers": {"type": "boolean", "description": "The recommended size is above the pool's size: add numbers."},
                "numbers": {"type": "array", "items": {
                    "type": "object",
                    "required": ["number", "leased", "draining"],
                    "properties": {
                        "number": schema_ref("E164"),
                        "leased": {"type": "boolean"},
                        "draining": {"type": "boolean"},
                    },
                }},
            },
        }));
    m.insert("PoolFailure".into(), json!({
            "type": "object",
            "required": ["id", "error"],
            "properties": {"id": schema_ref("HexId"), "error": {"type": "string", "description": "e.g. pool_unavailable"}},
            "description": "A pool whose actor failed, listed rather than hidden.",
        }));
    m.insert("NumberList".into(), json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["numbers"],
            "properties": {"numbers": {"type": "array", "items": schema_ref("PhoneInput"), "maxItems": 10000}},
        }));
    m.insert(
        "Attribution".into(),
        json!({"type": "object", "properties": attribution}),
    );
    m.insert("LiveSession".into(), json!({
            "type": "object",
            "required": ["session_id", "number", "expires_at", "first_seen", "last_seen", "duration_secs", "pages_viewed", "attribution"],
            "properties": {
                "session_id": {"type": "string"},
                "number": schema_ref("E164"),
                "expires_at": time,
                "first_seen": time,
                "last_seen": time,
                "duration_secs": count,
                "pages_viewed": count,
                "attribution": schema_ref("Attribution"),
            },
        }));
    m.insert("Counters".into(), json!({"type": "object", "properties": counters, "description": "Counts since the pool was created."}));
    m.insert(
        "PoolStats".into(),
        json!({"type": "object", "required": stats_required, "properties": stats_props}),
    );
    m.insert("SnapshotTaken".into(), json!({
            "type": "object",
            "required": ["file", "created_at", "covered_seq", "size_bytes", "pools", "duration_ms", "longest_pool_copy_ms"],
            "properties": {
                "file": {"type": "string"},
                "created_at": time,
                "covered_seq": count,
                "size_bytes": count,
                "pools": count,
                "duration_ms": {"type": "number"},
                "longest_pool_copy_ms": {"type": "number"},
            },
        }));
    m.insert(
        "SnapshotFile".into(),
        json!({
            "type": "object",
            "required": ["file"],
            "properties": {
                "file": {"type": "string"},
                "created_at": time,
                "covered_seq": count,
                "size_bytes": count,
                "error": {"type": "string", "description": "Set when the file is unreadable."},
            },
        }),
    );
    m.insert("CallFlowCreate".into(), json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["name", "forward_to"],
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 200},
                "forward_to": schema_ref("PhoneInput"),
                "ring_timeout_secs": {"type": "integer", "minimum": 5, "maximum": 600, "default": 30},
                "record": {"type": "boolean", "default": false},
            },
        }));
    m.insert(
        "CallFlowPatch".into(),
        json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 200},
                "forward_to": schema_ref("PhoneInput"),
                "ring_timeout_secs": {"type": "integer", "minimum": 5, "maximum": 600},
                "record": {"type": "boolean"},
            },
        }),
    );
    m.insert(
        "CallFlow".into(),
        json!({
            "type": "object",
            "required": ["id", "name", "forward_to", "ring_timeout_secs", "record", "created_at"],
            "properties": {
                "id": schema_ref("HexId"),
                "name": {"type": "string"},
                "forward_to": schema_ref("E164"),
                "ring_timeout_secs": count,
                "record": {"type": "boolean"},
                "created_at": time,
            },
        }),
    );
    m.insert("InboundCall".into(), json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["tracking_number", "caller_number"],
            "properties": {
                "tracking_number": schema_ref("PhoneInput"),
                "caller_number": schema_ref("PhoneInput"),
                "started_at": {"oneOf": [{"type": "string", "format": "date-time"}, {"type": "integer", "minimum": 0}, {"type": "null"}], "description": "RFC 3339 or unix seconds; now when absent."},
                "duration_secs": {"type": "integer", "minimum": 0},
                "call_status": {"type": "string", "minLength": 1, "maxLength": 32, "default": "completed"},
            },
        }));
    m.insert("CallSession".into(), json!(call_session));
    m.insert("Call".into(), json!({
            "type": "object",
            "required": ["id", "pool_id", "provider", "tracking_number", "caller_number", "started_at", "call_status", "status", "first_call", "prior_calls"],
            "properties": {
                "id": schema_ref("HexId"),
                "pool_id": {"type": ["string", "null"]},
                "provider": {"type": "string", "description": "`twilio` or `api`."},
                "provider_call_id": nullable("string"),
                "tracking_number": schema_ref("E164"),
                "caller_number": {"type": "string"},
                "started_at": time,
                "ended_at": time_or_null,
                "duration_secs": {"type": ["integer", "null"], "minimum": 0},
                "call_status": {"type": "string", "description": "The provider's call state: ringing, in-progress, completed, busy, …"},
                "status": schema_ref("CallStatus"),
                "first_call": {"type": "boolean"},
                "prior_calls": count,
                "session": schema_ref("CallSession"),
                "other_session": schema_ref("CallSession"),
                "forwarded_to": nullable("string"),
            },
        }));
    m.insert("WebhookCreate".into(), json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["pool_id", "url"],
            "properties": {
                "pool_id": schema_ref("HexId"),
                "url": {"type": "string", "format": "uri", "maxLength": 2048},
                "secret": {"type": "string", "minLength": 16, "maxLength": 256, "description": "Generated when absent."},
            },
        }));
    m.insert(
        "Webhook".into(),
        json!({
            "type": "object",
            "required": ["id", "pool_id", "url", "created_at"],
            "properties": {
                "id": schema_ref("HexId"),
                "pool_id": schema_ref("HexId"),
                "url": {"type": "string"},
                "created_at": time,
                "secret": {"type": "string", "description": "Only in the answer to the creation."},
            },
        }),
    );
    m.insert(
        "Delivery".into(),
        json!({
            "type": "object",
            "required": ["id", "webhook_id", "call_id", "created_at", "state", "attempts"],
            "properties": {
                "id": schema_ref("HexId"),
                "webhook_id": schema_ref("HexId"),
                "call_id": schema_ref("HexId"),
                "created_at": time,
                "state": {"enum": ["pending", "delivered", "failed"]},
                "attempts": count,
                "next_attempt_at": time_or_null,
                "last_attempt_at": time_or_null,
                "last_status": {"type": ["integer", "null"]},
                "last_error": nullable("string"),
            },
        }),
    );
    m.insert(
        "TwilioVoiceForm".into(),
        json!({
            "type": "object",
            "required": ["CallSid", "To", "From"],
            "properties": {
                "CallSid": {"type": "string", "maxLength": 128},
                "To": {"type": "string", "description": "The tracking number called."},
                "From": {"type": "string", "description": "The caller (may be `anonymous`)."},
                "CallStatus": {"type": "string"},
            },
            "additionalProperties": {"type": "string"},
        }),
    );
    m.insert(
        "TwilioStatusForm".into(),
        json!({
            "type": "object",
            "required": ["CallSid"],
            "properties": {
                "CallSid": {"type": "string", "maxLength": 128},
                "CallStatus": {"type": "string"},
                "DialCallStatus": {"type": "string"},
                "CallDuration": {"type": "string", "pattern": "^[0-9]+$"},
                "DialCallDuration": {"type": "string", "pattern": "^[0-9]+$"},
            },
            "additionalProperties": {"type": "string"},
        }),
    );
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_parameter_is_declared_and_operation_ids_are_unique() {
        let doc = document();
        let mut ids = std::collections::HashSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            let names: Vec<&str> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .collect();
            for (method, op) in item.as_object().unwrap() {
                assert!(ids.insert(op["operationId"].as_str().unwrap().to_string()));
                let declared: Vec<&str> = op["parameters"]
                    .as_array()
                    .map(|ps| {
                        ps.iter()
                            .filter(|p| p["in"] == "path")
                            .map(|p| p["name"].as_str().unwrap())
                            .collect()
                    })
                    .unwrap_or_default();
                assert_eq!(declared, names, "{method} {path}");
            }
        }
    }
}
