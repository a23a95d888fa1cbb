/* GPUBROKER GraphiQL page: a fetcher that sends queries and mutations over HTTP POST and
 * subscriptions over the WebSocket at the same path (graphql-transport-ws, graphql-ws client).
 * The headers from GraphiQL's headers editor go with both: as HTTP headers, and as the
 * connection_init payload of the WebSocket (a new connection whenever they change). */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("graphiql-config").textContent);
  var httpUrl = new URL(config.endpoint, window.location.href);
  var wsUrl = new URL(httpUrl.toString());
  wsUrl.protocol = httpUrl.protocol === "https:" ? "wss:" : "ws:";

  function operationType(params, opts) {
    var ast = opts && opts.documentAST;
    if (ast && ast.definitions) {
      var operations = ast.definitions.filter(function (d) { return d.kind === "OperationDefinition"; });
      var chosen = operations.filter(function (d) {
        return !params.operationName || (d.name && d.name.value === params.operationName);
      })[0];
      if (chosen) { return chosen.operation; }
    }
    // No parsed document (GraphiQL parses before it calls the fetcher, so this is a fallback):
    // the first keyword after comments.
    var text = (params.query || "").replace(/#[^\n]*/g, "").trim();
    return /^subscription\b/.test(text) ? "subscription" : "query";
  }

  function errorResult(message) { return { errors: [{ message: message }] }; }

  async function overHttp(params, headers) {
    var response = await fetch(httpUrl.toString(), {
      method: "POST",
      credentials: "omit",
      headers: Object.assign({ "Content-Type": "application/json", Accept: "application/json" }, headers),
      body: JSON.stringify(params),
    });
    var text = await response.text();
    try { return JSON.parse(text); } catch (e) {
      return errorResult("HTTP " + response.status + ": the answer is not JSON");
    }
  }

  var socket = null;
  var socketHeaders = null;
  function socketFor(headers) {
    var key = JSON.stringify(headers || {});
    if (socket && socketHeaders === key) { return socket; }
    if (socket) { socket.dispose(); }
    socketHeaders = key;
    socket = window.graphqlWs.createClient({
      url: wsUrl.toString(),
      lazy: true,
      retryAttempts: 0,
      connectionParams: function () { return JSON.parse(key); },
    });
    return socket;
  }

  function describeClose(error) {
    if (error && typeof error.code === "number") {
      return "WebSocket closed: " + error.code + (error.reason ? " " + error.reason : "");
    }
    if (Array.isArray(error)) { return error.map(function (e) { return e.message; }).join("; "); }
    return (error && error.message) || "WebSocket error";
  }

  function overWebSocket(params, headers) {
    var client = socketFor(headers);
    return {
      subscribe: function (sink) {
        var observer = typeof sink === "function" ? { next: sink } : sink;
        var dispose = client.subscribe(params, {
          next: function (value) { if (observer.next) { observer.next(value); } },
          error: function (error) {
            if (observer.next) { observer.next(errorResult(describeClose(error))); }
            if (observer.complete) { observer.complete(); }
          },
          complete: function () { if (observer.complete) { observer.complete(); } },
        });
        return { unsubscribe: dispose };
      },
    };
  }

  function fetcher(params, opts) {
    var headers = (opts && opts.headers) || {};
    return operationType(params, opts) === "subscription"
      ? overWebSocket(params, headers)
      : overHttp(params, headers);
  }

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultQuery: config.query,
    query: config.query,
    variables: config.variables || undefined,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
    defaultEditorToolsVisibility: true,
  }));
})();
