/* rpc.h — supervisord 4.2.5's XML-RPC methods (API version 3.0) over the line protocol.
 *
 * rpc.c reads a methodCall (xmlrpc.h), runs each method (or each call of a
 * system.multicall) as line-protocol requests (protocol.h) to supervisord's control
 * server, and writes the methodResponse with supervisord's records, names and fault
 * codes and strings ("BAD_NAME: foo").  It knows no socket: the line-protocol requests
 * go through native_request(), which the program provides (main.c; the fuzz target its
 * own), and the body through the job's reply callback. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* supervisord's fault codes (xmlrpc.py, Faults). */
enum {
        FAULT_UNKNOWN_METHOD = 1,
        FAULT_INCORRECT_PARAMETERS = 2,
        FAULT_BAD_ARGUMENTS = 3,
        FAULT_SIGNATURE_UNSUPPORTED = 4,
        FAULT_SHUTDOWN_STATE = 6,
        FAULT_BAD_NAME = 10,
        FAULT_BAD_SIGNAL = 11,
        FAULT_NO_FILE = 20,
        FAULT_NOT_EXECUTABLE = 21,
        FAULT_FAILED = 30,
        FAULT_ABNORMAL_TERMINATION = 40,
        FAULT_SPAWN_ERROR = 50,
        FAULT_ALREADY_STARTED = 60,
        FAULT_NOT_RUNNING = 70,
        FAULT_SUCCESS = 80,
        FAULT_ALREADY_ADDED = 90,
        FAULT_STILL_RUNNING = 91,
        FAULT_CANT_REREAD = 92,
};

/* The whole answer to a line-protocol request (NUL-terminated, len bytes), or NULL when
 * the connection failed. */
typedef void (*native_done_fn)(const char *reply, size_t len, void *userdata);
/* Send LINE (without its newline) as a request; DONE is called later, never from within. */
int native_request(const char *line, native_done_fn done, void *userdata);
/* The same, DONE called with "" once supervisord has the whole line, its answer not
 * waited for: for shutdown, whose answer comes when the front-end is being stopped. */
int native_send(const char *line, native_done_fn done, void *userdata);

struct rpc_job;
/* The response body (owned by the callee, malloc'd), once. */
typedef void (*rpc_reply_fn)(struct rpc_job *job, char *body, size_t len, void *userdata);

/* Answer the XML-RPC request BODY; REPLY may be called before this returns. */
struct rpc_job *rpc_handle(const char *body, size_t len, rpc_reply_fn reply, void *userdata);
/* The HTTP request went away: the job finishes what it sent, then frees itself quietly. */
void rpc_job_forget(struct rpc_job *job);

/* USER and PASSWORD (from Basic auth) against the configured ones; WANT_PASSWORD may be
 * "{SHA}" and the hex SHA-1 of the password, as in supervisord.  Constant time in the
 * password. */
bool rpc_credentials_match(const char *user, const char *password, const char *want_user, const char *want_password);

/* Whether supervisord is shutting down: while it is, every supervisor.* call is
 * SHUTDOWN_STATE, as supervisord answers them then (its _update); system.* ones are
 * still served. */
void rpc_set_shutting_down(bool shutting_down);

/* The fault string of CODE: "BAD_NAME", "UNKNOWN", ... */
const char *rpc_fault_name(int code);
