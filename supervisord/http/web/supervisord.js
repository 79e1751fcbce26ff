/* supervisord's web page (index.html, tail.html): a client of the XML-RPC interface at
 * /RPC2, on the page's own origin and credentials.  It polls (every POLL_MS) instead of
 * holding a stream: see supervisord(8), WEB PAGE.  Everything a service or a name brings
 * is put in the page as text (textContent), never as markup. */
"use strict";

var POLL_MS = 1000;
var TAIL_BYTES = 16384;           /* what the tail view shows first */
var TAIL_KEEP = 262144;           /* what a pane keeps */
var SIGNALS = ["HUP", "INT", "QUIT", "TERM", "USR1", "USR2", "KILL", "STOP", "CONT"];

/* ---- XML-RPC ---- */

function xmlEscape(s) {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function encodeValue(v) {
  if (typeof v === "boolean") return "<boolean>" + (v ? 1 : 0) + "</boolean>";
  if (typeof v === "number") return "<int>" + Math.trunc(v) + "</int>";
  if (Array.isArray(v)) return "<array><data>" + v.map(function (x) { return "<value>" + encodeValue(x) + "</value>"; }).join("") + "</data></array>";
  if (v && typeof v === "object") {
    return "<struct>" + Object.keys(v).map(function (k) {
      return "<member><name>" + xmlEscape(k) + "</name><value>" + encodeValue(v[k]) + "</value></member>";
    }).join("") + "</struct>";
  }
  return "<string>" + xmlEscape(v) + "</string>";
}

function decodeValue(node) {
  var t = null;
  for (var c = node.firstChild; c; c = c.nextSibling) if (c.nodeType === 1) { t = c; break; }
  if (!t) return node.textContent;          /* <value>text</value> is a string */
  switch (t.tagName) {
  case "string": return t.textContent;
  case "int": case "i4": case "i8": return parseInt(t.textContent, 10);
  case "double": return parseFloat(t.textContent);
  case "boolean": return t.textContent.trim() === "1";
  case "nil": return null;
  case "array":
    var data = t.getElementsByTagName("data")[0], out = [];
    for (var v = data ? data.firstChild : null; v; v = v.nextSibling) if (v.nodeType === 1) out.push(decodeValue(v));
    return out;
  case "struct":
    var obj = {};
    for (var m = t.firstChild; m; m = m.nextSibling) {
      if (m.nodeType !== 1) continue;
      var name = m.getElementsByTagName("name")[0], value = m.getElementsByTagName("value")[0];
      if (name && value) obj[name.textContent] = decodeValue(value);
    }
    return obj;
  default: return t.textContent;
  }
}

function Fault(code, text) { this.faultCode = code; this.faultString = text; }
Fault.prototype.toString = function () { return this.faultString; };

/* A call; the promise gives its value, or fails with a Fault or an Error. */
function call(method, params) {
  var body = "<?xml version=\"1.0\"?><methodCall><methodName>" + xmlEscape(method) + "</methodName><params>" +
    (params || []).map(function (p) { return "<param><value>" + encodeValue(p) + "</value></param>"; }).join("") +
    "</params></methodCall>";
  return fetch("RPC2", { method: "POST", body: body, headers: { "Content-Type": "text/xml" },
                         credentials: "same-origin", cache: "no-store" })
    .then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status + " " + r.statusText);
      return r.text();
    })
    .then(function (text) {
      var doc = new DOMParser().parseFromString(text, "text/xml");
      if (doc.getElementsByTagName("parsererror").length) throw new Error("unreadable answer to " + method);
      var fault = doc.getElementsByTagName("fault")[0];
      if (fault) {
        var f = decodeValue(fault.getElementsByTagName("value")[0]);
        throw new Fault(f.faultCode, f.faultString);
      }
      var value = doc.querySelector("params > param > value");
      if (!value) throw new Error("empty answer to " + method);
      return decodeValue(value);
    });
}

/* Several calls in one request: each result a value or a Fault. */
function multicall(calls) {
  return call("system.multicall", [calls.map(function (c) { return { methodName: c[0], params: c[1] || [] }; })])
    .then(function (results) {
      return results.map(function (r) {
        if (r && typeof r === "object" && !Array.isArray(r) && "faultCode" in r) return new Fault(r.faultCode, r.faultString);
        return r;  /* supervisord's multicall gives the value itself, not [value] */
      });
    });
}

/* ---- the page ---- */

function $(id) { return document.getElementById(id); }

function el(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function say(text, isError) {
  var list = $("messages"), li = el("li", isError ? "error" : "ok", text);
  var close = el("button", "", "\u00d7");
  close.type = "button";
  close.title = "Dismiss";
  close.setAttribute("aria-label", "Dismiss");
  close.addEventListener("click", function () { li.remove(); });
  li.appendChild(close);
  list.insertBefore(li, list.firstChild);
  while (list.children.length > 6) list.lastChild.remove();
  if (!isError) setTimeout(function () { li.remove(); }, 15000);
}

function failure(what, err) {
  say(what + ": " + (err instanceof Fault ? err.faultString : err && err.message ? err.message : String(err)), true);
}

function fullName(p) { return p.group === p.name ? p.name : p.group + ":" + p.name; }

var identityShown = false;

/* The header: identification, version, supervisord's own state, the link's health. */
function showDaemon(ident, version, state) {
  if (ident !== undefined && !(ident instanceof Fault)) {
    $("ident").textContent = ident;
    document.title = (document.body.dataset.page === "tail" ? $("tail-name").textContent + " \u2014 " : "") + ident;
  }
  if (version !== undefined && !(version instanceof Fault)) $("version").textContent = "supervisord " + version;
  var s = $("state");
  if (state && !(state instanceof Fault)) {
    s.textContent = state.statename;
    s.className = "state " + state.statename;
  }
}

function linkUp() {
  var l = $("link");
  l.textContent = "updated " + new Date().toLocaleTimeString();
  l.className = "link";
}

function linkDown(err) {
  var l = $("link");
  l.textContent = "no answer from supervisord (" + (err && err.message ? err.message : String(err)) + "), retrying";
  l.className = "link down";
  var s = $("state");
  s.textContent = "unreachable";
  s.className = "state down";
  identityShown = false;
}

/* Polls FN (a function returning a promise) every POLL_MS, never two at once. */
function every(fn) {
  var run = function () {
    fn().then(function () { linkUp(); }, function (err) { linkDown(err); })
      .then(function () { setTimeout(run, POLL_MS); });
  };
  run();
}

function daemonCalls() {
  var calls = [["supervisor.getState"]];
  if (!identityShown) calls.push(["supervisor.getIdentification"], ["supervisor.getSupervisorVersion"]);
  return calls;
}

function afterDaemonCalls(results) {
  showDaemon(results[2], results[3], results[1]);
  if (results.length > 2 && !(results[2] instanceof Fault)) identityShown = true;
}

/* ---- the process table ---- */

var rows = {};        /* full name -> { tr, cells, info } */
var groups = {};      /* group -> { tbody, header, members } */
var busy = {};        /* full names (and "group:*", "*") with an action under way */

var STARTABLE = { STOPPED: 1, EXITED: 1, FATAL: 1, BACKOFF: 1 };
var STOPPABLE = { RUNNING: 1, STARTING: 1, BACKOFF: 1 };
var SIGNALLABLE = { RUNNING: 1, STARTING: 1, STOPPING: 1 };

/* Results of a group or "all" call: one {name, group, status, description} a process;
 * those that are not SUCCESS (80) said. */
function reportEach(what, results) {
  var bad = (results || []).filter(function (r) { return r.status !== 80; });
  bad.forEach(function (r) { say(what + " " + fullName(r) + ": " + r.description, true); });
  if (!bad.length) say(what + ": done");
}

/* Runs the action WHAT on TARGET (a key of busy): PROMISE_FN gives the calls' promise. */
function act(target, what, promiseFn) {
  if (busy[target]) return Promise.resolve();
  busy[target] = true;
  refreshButtons();
  return promiseFn().catch(function (err) { failure(what, err); })
    .then(function () { delete busy[target]; refreshButtons(); return poll(); });
}

/* What a restart is, as supervisorctl's: a stop (of what runs) then a start. */
function restartCalls(stopCall, startCall, what) {
  return multicall([stopCall, startCall]).then(function (r) {
    var stopped = r[0], started = r[1];
    if (stopped instanceof Fault && stopped.faultCode !== 70) throw stopped;   /* NOT_RUNNING: fine */
    if (started instanceof Fault) throw started;
    if (Array.isArray(stopped)) stopped.filter(function (x) { return x.status !== 80; })
      .forEach(function (x) { say(what + " (stop) " + fullName(x) + ": " + x.description, true); });
    if (Array.isArray(started)) reportEach(what, started);
    else say(what + ": done");
  });
}

var processActions = {
  start: function (n) { return call("supervisor.startProcess", [n, true]).then(function () { say(n + ": started"); }); },
  stop: function (n) { return call("supervisor.stopProcess", [n, true]).then(function () { say(n + ": stopped"); }); },
  restart: function (n) {
    return restartCalls(["supervisor.stopProcess", [n, true]], ["supervisor.startProcess", [n, true]], "restart " + n);
  },
  clearlog: function (n) { return call("supervisor.clearProcessLogs", [n]).then(function () { say(n + ": log cleared"); }); },
  signal: function (n, sig) {
    return call("supervisor.signalProcess", [n, sig]).then(function () { say(n + ": sent SIG" + sig); });
  },
};

var groupActions = {
  start: function (g) { return call("supervisor.startProcessGroup", [g, true]).then(function (r) { reportEach("start " + g, r); }); },
  stop: function (g) { return call("supervisor.stopProcessGroup", [g, true]).then(function (r) { reportEach("stop " + g, r); }); },
  restart: function (g) {
    return restartCalls(["supervisor.stopProcessGroup", [g, true]], ["supervisor.startProcessGroup", [g, true]], "restart " + g);
  },
  clearlog: function (g) {
    var names = groups[g] ? Object.keys(groups[g].members) : [];
    return multicall(names.map(function (n) { return ["supervisor.clearProcessLogs", [n]]; })).then(function (r) {
      var bad = 0;
      r.forEach(function (x, i) { if (x instanceof Fault) { bad++; say("clear log " + names[i] + ": " + x.faultString, true); } });
      if (!bad) say(g + ": logs cleared");
    });
  },
  signal: function (g, sig) {
    return call("supervisor.signalProcessGroup", [g, sig]).then(function (r) { reportEach("SIG" + sig + " to " + g, r); });
  },
};

var allActions = {
  restart: function () {
    return restartCalls(["supervisor.stopAllProcesses", [true]], ["supervisor.startAllProcesses", [true]], "restart all");
  },
  stop: function () { return call("supervisor.stopAllProcesses", [true]).then(function (r) { reportEach("stop all", r); }); },
};

function button(label, cls, onClick) {
  var b = el("button", cls, label);
  b.type = "button";
  b.addEventListener("click", onClick);
  return b;
}

/* The buttons of a process (KIND "process") or a group ("group"). */
function actionCell(kind, name) {
  var td = el("td", "act"), box = el("div", "actions");
  var table = kind === "group" ? groupActions : processActions;
  var key = kind === "group" ? name + ":*" : name;
  var label = kind === "group" ? " group" : "";
  var buttons = {};
  ["start", "stop", "restart", "clearlog"].forEach(function (a) {
    var text = { start: "Start", stop: "Stop", restart: "Restart", clearlog: "Clear log" }[a] + label;
    buttons[a] = button(text, "do-" + a + (a === "stop" ? " danger" : ""), function () {
      act(key, a + " " + name, function () { return table[a](name); });
    });
    buttons[a].dataset.action = a;
    box.appendChild(buttons[a]);
  });
  var sel = el("select", "signal");
  sel.setAttribute("aria-label", "Signal to send to " + name);
  SIGNALS.forEach(function (s) { var o = el("option", "", s); o.value = s; sel.appendChild(o); });
  buttons.signal = button("Signal" + label, "do-signal", function () {
    var sig = sel.value;
    /* Its own key: a signal (a KILL) is what a stop that hangs may need. */
    act(key + "#signal", "SIG" + sig + " to " + name, function () { return table.signal(name, sig); });
  });
  buttons.signal.dataset.action = "signal";
  box.appendChild(sel);
  box.appendChild(buttons.signal);
  if (kind === "process") {
    var tail = el("a", "do-tail", "Tail");
    tail.href = "tail.html?processname=" + encodeURIComponent(name);
    box.appendChild(tail);
  }
  td.appendChild(box);
  return { td: td, buttons: buttons };
}

function groupOf(g) {
  if (groups[g]) return groups[g];
  var tbody = el("tbody");
  tbody.dataset.group = g;
  var header = el("tr", "group");
  header.appendChild(el("td", "", ""));
  header.appendChild(el("td", "name", g));
  var count = el("td", "desc");
  header.appendChild(count);
  header.appendChild(el("td", "rtt"));
  var act_ = actionCell("group", g);
  header.appendChild(act_.td);
  tbody.appendChild(header);
  groups[g] = { tbody: tbody, header: header, count: count, buttons: act_.buttons, members: {} };
  /* Groups in the order of supervisord's list (by name). */
  var table = $("processes"), before = null;
  Object.keys(groups).sort().some(function (k) {
    if (k > g && groups[k].tbody.parentNode) { before = groups[k].tbody; return true; }
    return false;
  });
  table.insertBefore(tbody, before);
  return groups[g];
}

function rowOf(p) {
  var n = fullName(p);
  if (rows[n]) return rows[n];
  var group = groupOf(p.group);
  var tr = el("tr", "process");
  tr.dataset.name = n;
  var state = el("span", "state");
  var stateCell = el("td", "st");
  stateCell.appendChild(state);
  var cells = { state: state, name: el("td", "name", n), desc: el("td", "desc"), rtt: el("td", "rtt") };
  tr.appendChild(stateCell);
  tr.appendChild(cells.name);
  tr.appendChild(cells.desc);
  tr.appendChild(cells.rtt);
  var a = actionCell("process", n);
  tr.appendChild(a.td);
  group.tbody.appendChild(tr);
  group.members[n] = true;
  rows[n] = { tr: tr, cells: cells, buttons: a.buttons, group: p.group, info: p };
  return rows[n];
}

function updateRow(p) {
  var r = rowOf(p);
  r.info = p;
  r.cells.state.textContent = p.statename;
  r.cells.state.className = "state " + p.statename;
  r.tr.dataset.state = p.statename;
  r.cells.desc.textContent = p.description;
  r.cells.rtt.textContent = typeof p.heartbeat_rtt_usec === "number"
    ? "RTT " + (p.heartbeat_rtt_usec / 1000).toFixed(1) + " ms" : "";
}

function refreshButtons() {
  Object.keys(rows).forEach(function (n) {
    var r = rows[n], s = r.info.statename;
    var off = busy[n] || busy[r.group + ":*"] || busy["*"];
    r.buttons.start.disabled = off || !STARTABLE[s];
    r.buttons.stop.disabled = off || !STOPPABLE[s];
    r.buttons.restart.disabled = off || s === "STOPPING";
    r.buttons.signal.disabled = !!busy[n + "#signal"] || !SIGNALLABLE[s];
    r.buttons.clearlog.disabled = off;
  });
  Object.keys(groups).forEach(function (g) {
    var off = busy[g + ":*"] || busy["*"];
    Object.keys(groups[g].buttons).forEach(function (a) {
      groups[g].buttons[a].disabled = a === "signal" ? !!busy[g + ":*#signal"] : off;
    });
  });
  $("restart-all").disabled = $("stop-all").disabled = !!busy["*"];
}

function applyFilter() {
  var words = $("filter").value.toLowerCase().split(/\s+/).filter(Boolean);
  var shown = 0;
  Object.keys(groups).forEach(function (g) {
    var any = false;
    Object.keys(groups[g].members).forEach(function (n) {
      var r = rows[n], text = (n + " " + r.info.statename + " " + r.info.description).toLowerCase();
      var match = words.every(function (w) { return text.indexOf(w) >= 0; });
      r.tr.hidden = !match;
      if (match) { any = true; shown++; }
    });
    groups[g].tbody.hidden = !any;
  });
  $("empty").hidden = shown > 0 || !Object.keys(rows).length;
}

function showProcesses(infos) {
  var seen = {};
  infos.forEach(function (p) { seen[fullName(p)] = true; updateRow(p); });
  Object.keys(rows).forEach(function (n) {
    if (seen[n]) return;
    var r = rows[n];
    r.tr.remove();
    delete groups[r.group].members[n];
    delete rows[n];
  });
  Object.keys(groups).forEach(function (g) {
    var members = Object.keys(groups[g].members);
    if (!members.length) { groups[g].tbody.remove(); delete groups[g]; return; }
    /* A group of one process of its own name is that process: no header of its own. */
    groups[g].header.hidden = members.length === 1 && members[0] === g;
    var running = members.filter(function (n) { return rows[n].info.statename === "RUNNING"; }).length;
    groups[g].count.textContent = running + " of " + members.length + " running";
  });
  refreshButtons();
  applyFilter();
}

function poll() {
  var calls = daemonCalls();
  calls.unshift(["supervisor.getAllProcessInfo"]);
  return multicall(calls).then(function (r) {
    if (r[0] instanceof Fault) throw r[0];
    showProcesses(r[0]);
    afterDaemonCalls(r);
  });
}

/* supervisord's action links (index.html?processname=NAME&action=stop) ask first. */
var LINK_ACTIONS = {
  start: ["Start", "process"], stop: ["Stop", "process"], restart: ["Restart", "process"],
  clearlog: ["Clear the log of", "process"], stopall: ["Stop all processes", "all"],
  restartall: ["Restart all processes", "all"],
};

function confirmLink() {
  var q = new URLSearchParams(location.search), action = q.get("action"), name = q.get("processname") || "";
  var known = LINK_ACTIONS[action];
  if (!action) return;
  var forget = function () { $("confirm").hidden = true; history.replaceState(null, "", location.pathname); };
  if (!known) { say("unknown action in the link: " + action, true); forget(); return; }
  var all = known[1] === "all";
  var question = all ? known[0] : known[0] + " " + name;
  $("confirm-text").textContent = "This link asks to: " + question + ". A link cannot act by itself here; confirm?";
  $("confirm-yes").textContent = all ? known[0] : known[0] + " " + name;
  $("confirm-yes").onclick = function () {
    forget();
    var a = action.replace(/all$/, "");
    if (all) act("*", a + " all", allActions[a]);
    else act(name, a + " " + name, function () { return processActions[action](name); });
  };
  $("confirm-no").onclick = forget;
  $("confirm").hidden = false;
}

function startIndex() {
  $("filter").addEventListener("input", applyFilter);
  $("restart-all").addEventListener("click", function () { act("*", "restart all", allActions.restart); });
  $("stop-all").addEventListener("click", function () { act("*", "stop all", allActions.stop); });
  confirmLink();
  every(poll);
}

/* ---- the tail view ---- */

/* A pane following one stream: supervisord's tail with length 0 gives the file's size,
 * then read gives exactly the bytes from where the pane is to that size, so that
 * nothing is shown twice or lost however fast the service writes.  (A tail of N bytes
 * would give the last N, old ones among them.) */
function Pane(id, stream, name) {
  this.pre = $(id);
  this.stream = stream;        /* "Stdout", "Stderr" */
  this.name = name;
  this.offset = -1;            /* bytes shown up to here; -1: nothing yet */
  this.next = null;            /* [from, length] of the read to do, null: none */
  this.lastFault = "";
}

Pane.prototype.append = function (text, cls) {
  var pre = this.pre, atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  pre.appendChild(cls ? el("span", cls, text) : document.createTextNode(text));
  while (pre.textContent.length > TAIL_KEEP && pre.firstChild) pre.firstChild.remove();
  if ($("follow").checked && (atEnd || this.first)) pre.scrollTop = pre.scrollHeight;
};

/* The size call; its answer (a value or a Fault) to sized(). */
Pane.prototype.sizeCall = function () {
  return ["supervisor.tailProcess" + this.stream + "Log", [this.name, Math.max(this.offset, 0), 0]];
};

Pane.prototype.fault = function (f) {
  if (f.faultString !== this.lastFault) failure("tail " + this.name + " (" + this.stream.toLowerCase() + ")", f);
  this.lastFault = f.faultString;
  this.next = null;
};

Pane.prototype.sized = function (r) {
  this.next = null;
  if (r instanceof Fault) { this.fault(r); return; }
  this.lastFault = "";
  var size = r[1];
  this.first = this.offset < 0;
  if (this.first) {
    this.offset = Math.max(size - TAIL_BYTES, 0);
  } else if (size < this.offset) {
    this.append("\n==> log cleared or rotated <==\n", "mark");
    this.offset = 0;
  }
  if (size - this.offset > TAIL_KEEP) {
    this.append("\n==> output skipped <==\n", "mark");
    this.offset = size - TAIL_KEEP;
  }
  if (size > this.offset) this.next = [this.offset, size - this.offset];
  this.size = size;
};

Pane.prototype.readCall = function () {
  return ["supervisor.readProcess" + this.stream + "Log", [this.name, this.next[0], this.next[1]]];
};

Pane.prototype.read = function (r) {
  if (r instanceof Fault) { this.fault(r); return; }
  if (r) this.append(r);
  this.offset = this.size;
  this.next = null;
  this.first = false;
};

function startTail() {
  var name = new URLSearchParams(location.search).get("processname") || "";
  $("tail-name").textContent = name;
  if (!name) { say("no processname in the address", true); return; }
  var panes = [new Pane("stdout", "Stdout", name), new Pane("stderr", "Stderr", name)];
  every(function () {
    if (!$("follow").checked) return multicall(daemonCalls()).then(function (r) { afterDaemonCalls([null].concat(r)); });
    var calls = panes.map(function (p) { return p.sizeCall(); }).concat(daemonCalls());
    return multicall(calls).then(function (r) {
      panes.forEach(function (p, i) { p.sized(r[i]); });
      afterDaemonCalls([null].concat(r.slice(panes.length)));
      var reading = panes.filter(function (p) { return p.next; });
      if (!reading.length) return;
      return multicall(reading.map(function (p) { return p.readCall(); })).then(function (got) {
        reading.forEach(function (p, i) { p.read(got[i]); });
      });
    });
  });
}

if (document.body.dataset.page === "tail") startTail();
else startIndex();
