
/*
 * ngx_clientauth: configuration and per-request state shared by the files of
 * the module.  The nginx-free logic lives in lib/; these files are the glue.
 */

#ifndef _NGX_HTTP_CLIENTAUTH_MODULE_H_INCLUDED_
#define _NGX_HTTP_CLIENTAUTH_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "ca_addr.h"
#include "ca_cookie.h"
#include "ca_ident.h"
#include "ca_logesc.h"
#include "ca_keys.h"
#include "ca_policy.h"
#include "ca_pwhash.h"
#include "ca_reply.h"
#include "ca_scache.h"
#include "ca_text.h"
#include "ca_token.h"


#define NGX_HTTP_CLIENTAUTH_HISTORY_MAX  10

/* clientauth_login_notice off | on | new_device */
#define NGX_HTTP_CLIENTAUTH_NOTICE_OFF         0
#define NGX_HTTP_CLIENTAUTH_NOTICE_ALWAYS      1
#define NGX_HTTP_CLIENTAUTH_NOTICE_NEW_DEVICE  2

/* new_device: how long a (device, network) pair is remembered (90 days) */
#define NGX_HTTP_CLIENTAUTH_DEVICE_MEMORY  ((int64_t) 90 * 24 * 3600 * 1000)

/* a session's opaque id in the lists of sessions: 128 random bits, hex */
#define NGX_HTTP_CLIENTAUTH_SESSION_ID_LEN  32

/* statuses nginx 1.22 has no constant for */
#define NGX_HTTP_CLIENTAUTH_GONE           410
#define NGX_HTTP_CLIENTAUTH_UNPROCESSABLE  422


typedef struct ngx_http_clientauth_redis_s  ngx_http_clientauth_redis_t;
typedef struct ngx_http_clientauth_cmd_s    ngx_http_clientauth_cmd_t;
typedef struct ngx_http_clientauth_pages_s  ngx_http_clientauth_pages_t;
typedef struct ngx_http_clientauth_cache_s  ngx_http_clientauth_cache_t;


typedef enum {
    NGX_HTTP_CLIENTAUTH_LIMIT_ADDRESS = 0,
    NGX_HTTP_CLIENTAUTH_LIMIT_ACCOUNT,
    NGX_HTTP_CLIENTAUTH_LIMIT_BRAND,
    NGX_HTTP_CLIENTAUTH_LIMITS
} ngx_http_clientauth_scope_e;


/* clientauth_login_limit SCOPE N WINDOW: count 0 is off. */
typedef struct {
    ngx_uint_t                   count;
    ngx_msec_t                   window;
} ngx_http_clientauth_limit_t;


/* clientauth_lockout RETRIES FIND_TIME BAN_TIME [max=TIME]: 0 is off. */
typedef struct {
    ngx_uint_t                   retries;
    ngx_msec_t                   find_time;
    ngx_msec_t                   ban_time;
    ngx_msec_t                   max_ban;
} ngx_http_clientauth_lockout_t;


/* A sentinel of clientauth_redis sentinel=, resolved when read. */
typedef struct {
    ngx_str_t                    name;         /* as written, for logs */
    ngx_str_t                    host;         /* numeric, NUL-terminated */
    in_port_t                    port;
} ngx_http_clientauth_sentinel_addr_t;


/* One clientauth_redis directive; every worker connects to each. */
typedef struct {
    ngx_str_t                    name;         /* as written, for logs */
    ngx_str_t                    host;         /* numeric, NUL-terminated */
    in_port_t                    port;
    ngx_str_t                    path;         /* unix socket, or empty */
    ngx_str_t                    password;
    ngx_int_t                    db;
    ngx_msec_t                   timeout;
    ngx_uint_t                   index;

    /* sentinel=: the primary is whom the sentinels name (host unset) */
    ngx_array_t                 *sentinels;    /* of sentinel_addr_t */
    ngx_str_t                    master;
    ngx_str_t                    sentinel_password;

    /* durable writes (issue 12): replicas to WAIT for, 0: none */
    ngx_uint_t                   replicas;
} ngx_http_clientauth_redis_conf_t;


typedef struct {
    ngx_array_t                  redis;        /* of redis_conf_t * */
    ngx_uint_t                   hash_queue;
    ngx_shm_zone_t              *metrics;
    ngx_flag_t                   hashing;      /* a location logs users in */
    ngx_uint_t                   session_cache;   /* sessions, 0: off */
} ngx_http_clientauth_main_conf_t;


typedef enum {
    NGX_HTTP_CLIENTAUTH_NONE = 0,
    NGX_HTTP_CLIENTAUTH_LOGIN,
    NGX_HTTP_CLIENTAUTH_LOGOUT,
    NGX_HTTP_CLIENTAUTH_RESET_REQUEST,
    NGX_HTTP_CLIENTAUTH_RESET_CONFIRM,
    NGX_HTTP_CLIENTAUTH_STATUS,
    /* self-service area (issue 10) */
    NGX_HTTP_CLIENTAUTH_ACCOUNT,
    /* self-service: forgotten identifier, e-mail change */
    NGX_HTTP_CLIENTAUTH_REMIND,
    NGX_HTTP_CLIENTAUTH_EMAIL_CANCEL,
    /* sub-users */
    NGX_HTTP_CLIENTAUTH_INVITE_ACCEPT,
    NGX_HTTP_CLIENTAUTH_ENDPOINTS
} ngx_http_clientauth_endpoint_e;


typedef struct {
    ngx_str_t                    brand;
    ngx_http_clientauth_redis_conf_t  *redis;
    ngx_uint_t                   identifiers;  /* mask of ca_id_kind_e */
    ngx_str_t                    phone_country;
    ngx_msec_t                   session_idle;
    ngx_msec_t                   session_lifetime;
    ngx_msec_t                   session_refresh;
    ngx_str_t                    cookie_name;
    ngx_flag_t                   cookie_secure;
    ngx_str_t                    thread_pool_name;
    ngx_thread_pool_t           *thread_pool;
    ca_pwhash_cost_t             hash_cost;
    char                        *dummy_hash;   /* for unknown accounts */
    ngx_msec_t                   failure_floor; /* a failed login's least
                                                   time in the hash thread */
    ngx_msec_t                   failure_floor_conf; /* or FLOOR_AUTO */
    size_t                       password_max;
    ngx_http_clientauth_limit_t  limits[NGX_HTTP_CLIENTAUTH_LIMITS];
    ngx_http_clientauth_lockout_t  lockout;
    ngx_uint_t                   login_notice;  /* NOTICE_* */
    ngx_str_t                    outbox;
    ngx_uint_t                   outbox_maxlen;
    ngx_http_clientauth_limit_t  reset_limits[NGX_HTTP_CLIENTAUTH_LIMITS];
    ngx_str_t                    reset_url;
    ngx_msec_t                   reset_lifetime;
    ngx_uint_t                   password_policy;   /* ca_policy_preset_e */
    ngx_uint_t                   password_min;
    ngx_uint_t                   password_history;
    ngx_array_t                 *languages;    /* of ngx_str_t */
    ngx_str_t                    theme;
    ngx_str_t                    support_contact;
    ngx_flag_t                   password_generator;
    ngx_str_t                    urls[NGX_HTTP_CLIENTAUTH_ENDPOINTS];
                                               /* of the endpoints, by enum */
    ngx_http_clientauth_pages_t *pages;
    /* self-service: forgotten identifier, e-mail change */
    ngx_uint_t                   recovery_identifiers; /* ca_id_kind_e */
    ngx_msec_t                   email_change_grace;   /* 0: off */
    ngx_str_t                    email_verify_url;
    ngx_str_t                    email_cancel_url;

    /* sub-users */
    ngx_str_t                    invite_url;
    ngx_msec_t                   invite_lifetime;
    ngx_http_clientauth_limit_t  invite_limits[2];  /* account, inviter */
} ngx_http_clientauth_srv_conf_t;


typedef struct {
    ngx_flag_t                   enable;
    ngx_str_t                    login_url;
    ngx_array_t                 *require;      /* of ngx_str_t */
    size_t                       max_body_size;
    ngx_uint_t                   endpoint;     /* this location's, if any */
} ngx_http_clientauth_loc_conf_t;


/* clientauth_login_failure_floor auto: measured when the conf is read */
#define NGX_HTTP_CLIENTAUTH_FLOOR_AUTO  ((ngx_msec_t) -2)


/* What a valid session says about its user. */
typedef struct {
    ngx_str_t                    account;
    ngx_str_t                    user;
    ngx_str_t                    permissions;
} ngx_http_clientauth_identity_t;


typedef enum {
    NGX_HTTP_CLIENTAUTH_IDLE = 0,
    NGX_HTTP_CLIENTAUTH_WAITING,    /* a Redis command or hash in flight */
    NGX_HTTP_CLIENTAUTH_REPLIED     /* its result is in the ctx */
} ngx_http_clientauth_wait_e;


/*
 * One login or reset attempt as the throttle sees it, before any hashing:
 * the identifier, the account it names, and the counters.
 */
typedef struct {
    char                         ident[CA_IDENT_MAX];   /* canonical */
    const char                  *ident_kind;   /* NULL: no accepted shape */
    ngx_str_t                    ref;          /* "<account>:<user>" */
    char                         account[21];
    char                         user[21];
    ngx_http_clientauth_limit_t *limits;       /* login's or reset's */
    ngx_str_t                   *scopes;       /* their key names */
    ngx_uint_t                   lockout;      /* login only */
    ngx_str_t                    subject[NGX_HTTP_CLIENTAUTH_LIMITS];
    ngx_str_t                    kind;         /* empty: no identifier */
    ngx_str_t                    identifier;
    int64_t                      now;
    ngx_uint_t                   first;        /* its first reply */
    ngx_uint_t                   nreplies;
    int64_t                      lock_ttl;     /* ms, <= 0: not locked */
    int64_t                      fails;
    int64_t                      current[NGX_HTTP_CLIENTAUTH_LIMITS];
    int64_t                      previous[NGX_HTTP_CLIENTAUTH_LIMITS];
    int64_t                      bans;
    ngx_uint_t                   banner;       /* elected to set the ban */
    ngx_uint_t                   phase;        /* 1: address, brand */
    char                        *fails_key;
    char                        *brand_key;    /* its bucket, to give back */
    u_char                       repair[NGX_INT64_LEN];
} ngx_http_clientauth_attempt_t;


typedef struct ngx_http_clientauth_ctx_s  ngx_http_clientauth_ctx_t;

/*
 * One step of an endpoint's flow: NGX_DONE while it waits for Redis or the
 * thread pool, else what to finalize the request with.
 */
typedef ngx_int_t (*ngx_http_clientauth_step_pt)(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);


struct ngx_http_clientauth_ctx_s {
    ngx_http_clientauth_wait_e   wait;
    ngx_http_clientauth_cmd_t   *cmd;          /* in flight, not in r->pool */
    ngx_http_clientauth_redis_t *txn;          /* held for a check-and-set */
    void                        *task;         /* hash task in flight */
    unsigned                     redis_error:1;
    unsigned                     cleanup_added:1;
    unsigned                     session_found:1;
    unsigned                     session_valid:1;
    unsigned                     session_named:1;    /* its user's read */
    unsigned                     lang_known:1;
    unsigned                     lang_chosen:1;   /* not the fallback */
    unsigned                     lang:4;       /* index in languages */

    /* session validation */
    ngx_str_t                    token_hash;
    ngx_str_t                    session_gen;  /* sgen when it was made */
    ngx_http_clientauth_identity_t  identity;
    int64_t                      session_expires;    /* ms */
    int64_t                      session_refreshed;  /* ms */
    int64_t                      session_deadline;   /* its key's TTL, 0:
                                                        not known */

    /* the session cache: a read that may be stored (cache_ticket) */
    ngx_http_clientauth_cache_t *cache_reading;
    ca_scache_ticket_t           cache_ticket;
    unsigned                     cache_batch:1;     /* CLIENT CACHING too */

    ngx_http_clientauth_step_pt  next;         /* the endpoint's flow */
    void                        *flow;         /* and its state */

    /* undoes what the flow wrote, if Redis fails it before it answers */
    void                       (*abandon)(ngx_http_request_t *r,
                                          ngx_http_clientauth_ctx_t *ctx);
};


extern ngx_module_t  ngx_http_clientauth_module;


/* ngx_http_clientauth_module.c */
ngx_http_clientauth_ctx_t *ngx_http_clientauth_get_ctx(ngx_http_request_t *r);
ngx_int_t ngx_http_clientauth_add_cleanup(ngx_http_request_t *r,
    ngx_http_clientauth_ctx_t *ctx);
ngx_int_t ngx_http_clientauth_flow_start(ngx_http_request_t *r,
    ngx_http_clientauth_step_pt next, void *flow, ngx_uint_t read_body);
int64_t ngx_http_clientauth_now_ms(void);
char *ngx_http_clientauth_log_safe(char *buf, ngx_str_t *s);

/* ngx_http_clientauth_session.c */
ngx_int_t ngx_http_clientauth_strip_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_clientauth_access_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_clientauth_add_variables(ngx_conf_t *cf);
ngx_int_t ngx_http_clientauth_session_cookie(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_str_t *token);

/* ngx_http_clientauth_login.c */
ngx_int_t ngx_http_clientauth_login_handler(ngx_http_request_t *r);

/* ngx_http_clientauth_logout.c */
ngx_int_t ngx_http_clientauth_logout_handler(ngx_http_request_t *r);

/* ngx_http_clientauth_reset.c */
ngx_int_t ngx_http_clientauth_reset_request_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_clientauth_reset_confirm_handler(ngx_http_request_t *r);

/* ngx_http_clientauth_remind.c */
ngx_int_t ngx_http_clientauth_remind_handler(ngx_http_request_t *r);

/* ngx_http_clientauth_email.c */
ngx_int_t ngx_http_clientauth_email_cancel_handler(ngx_http_request_t *r);

/* ngx_http_clientauth_invite.c */
ngx_int_t ngx_http_clientauth_invite_accept_handler(ngx_http_request_t *r);

/* ngx_http_clientauth_response.c */
ngx_uint_t ngx_http_clientauth_accepts(ngx_http_request_t *r,
    const char *type);
ngx_int_t ngx_http_clientauth_add_header(ngx_http_request_t *r,
    const char *name, ngx_str_t *value);
ngx_int_t ngx_http_clientauth_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, ngx_str_t *body);
ngx_int_t ngx_http_clientauth_send_json(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *json);
ngx_int_t ngx_http_clientauth_send_html(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *html);
ngx_int_t ngx_http_clientauth_send_redirect(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *location);
ngx_int_t ngx_http_clientauth_retry_after(ngx_http_request_t *r,
    time_t seconds);
ngx_int_t ngx_http_clientauth_set_cookie(ngx_http_request_t *r,
    ngx_http_clientauth_srv_conf_t *ascf, ngx_str_t *token);
ngx_int_t ngx_http_clientauth_send_unavailable(ngx_http_request_t *r);
ngx_int_t ngx_http_clientauth_finalize(ngx_http_request_t *r, ngx_int_t rc);
ngx_int_t ngx_http_clientauth_query_arg(ngx_http_request_t *r,
    const char *name, ngx_str_t *value);
ngx_int_t ngx_http_clientauth_not_allowed(ngx_http_request_t *r,
    const char *allow);
char *ngx_http_clientauth_pool_cstr(ngx_http_request_t *r, const char *s);
ngx_uint_t ngx_http_clientauth_str_eq(ngx_str_t *a, ngx_str_t *b);

/* ngx_http_clientauth_page.c */

/* What a message page or a JSON error says besides its code and text. */
typedef struct {
    ca_text_e                    title;
    ca_text_e                    text;
    ngx_str_t                    arg;          /* the text's {n} */
    ca_text_e                    link_text;    /* CA_T_COUNT: no link */
    ngx_str_t                    link;         /* a same-site URL */
    ngx_uint_t                   support;      /* show the contact */
} ngx_http_clientauth_outcome_t;

char *ngx_http_clientauth_languages(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_clientauth_pages_init(ngx_conf_t *cf,
    ngx_http_clientauth_srv_conf_t *prev,
    ngx_http_clientauth_srv_conf_t *conf);
ngx_int_t ngx_http_clientauth_lang(ngx_http_request_t *r, ngx_str_t *tag);
ngx_int_t ngx_http_clientauth_customer_lang(ngx_http_request_t *r,
    ngx_str_t *tag);
ngx_int_t ngx_http_clientauth_send_message(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, ca_text_e title, ca_text_e text);
ngx_int_t ngx_http_clientauth_send_outcome(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, ngx_http_clientauth_outcome_t *oc);
ngx_int_t ngx_http_clientauth_send_wait(ngx_http_request_t *r,
    const char *code, time_t retry);
ngx_int_t ngx_http_clientauth_send_locked(ngx_http_request_t *r,
    ngx_uint_t status, const char *code);
ngx_int_t ngx_http_clientauth_page_login(ngx_http_request_t *r,
    ngx_uint_t status, ca_text_e error, ngx_str_t *identifier,
    ngx_str_t *next);
ngx_int_t ngx_http_clientauth_page_reset(ngx_http_request_t *r);
ngx_int_t ngx_http_clientauth_page_sent(ngx_http_request_t *r);
ngx_int_t ngx_http_clientauth_page_remind(ngx_http_request_t *r);
ngx_int_t ngx_http_clientauth_page_remind_sent(ngx_http_request_t *r);
ngx_int_t ngx_http_clientauth_page_new_password(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *token, ngx_str_t *username,
    unsigned broken);
ngx_int_t ngx_http_clientauth_page_invite(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *token, ngx_str_t *email, unsigned broken);
ngx_int_t ngx_http_clientauth_rules_json(ngx_http_request_t *r,
    unsigned broken, ngx_str_t *json);
ngx_int_t ngx_http_clientauth_redirect_login(ngx_http_request_t *r,
    const char *done);
ngx_str_t *ngx_http_clientauth_page_url(ngx_http_request_t *r,
    ngx_uint_t endpoint);

/* ngx_http_clientauth_status.c */
ngx_int_t ngx_http_clientauth_status_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_clientauth_metrics_init(ngx_conf_t *cf,
    ngx_http_clientauth_main_conf_t *amcf);

typedef enum {
    NGX_HTTP_CLIENTAUTH_M_SESSION_VALID = 0,
    NGX_HTTP_CLIENTAUTH_M_SESSION_INVALID,
    NGX_HTTP_CLIENTAUTH_M_SESSION_FORBIDDEN,
    NGX_HTTP_CLIENTAUTH_M_SESSION_REFRESHED,
    NGX_HTTP_CLIENTAUTH_M_LOGIN_SUCCESS,
    NGX_HTTP_CLIENTAUTH_M_LOGIN_FAILURE,
    NGX_HTTP_CLIENTAUTH_M_LOGIN_THROTTLED,
    NGX_HTTP_CLIENTAUTH_M_LOGIN_REHASHED,
    NGX_HTTP_CLIENTAUTH_M_LOGOUT,
    NGX_HTTP_CLIENTAUTH_M_RESET_DONE,
    NGX_HTTP_CLIENTAUTH_M_HASH_QUEUE_FULL,
    NGX_HTTP_CLIENTAUTH_M_REDIS_UNAVAILABLE,
    NGX_HTTP_CLIENTAUTH_M_REDIS_TIMEOUT,
    NGX_HTTP_CLIENTAUTH_M_REDIS_RECONNECT,
    NGX_HTTP_CLIENTAUTH_M_BAD_REQUEST,
    /* the session cache (issue 11) */
    NGX_HTTP_CLIENTAUTH_M_SCACHE_HIT,
    NGX_HTTP_CLIENTAUTH_M_SCACHE_MISS,
    NGX_HTTP_CLIENTAUTH_M_SCACHE_INVALIDATION,
    NGX_HTTP_CLIENTAUTH_M_SCACHE_FLUSH,
    NGX_HTTP_CLIENTAUTH_M_SCACHE_ENTRIES,       /* a gauge */
    /* Redis Sentinel */
    NGX_HTTP_CLIENTAUTH_M_REDIS_FAILOVER,
    /* durable writes (issue 12) */
    NGX_HTTP_CLIENTAUTH_M_DURABLE_CONFIRMED,
    NGX_HTTP_CLIENTAUTH_M_DURABLE_UNCONFIRMED,
    NGX_HTTP_CLIENTAUTH_M_LAST
} ngx_http_clientauth_metric_e;

void ngx_http_clientauth_count(ngx_http_clientauth_metric_e metric);
void ngx_http_clientauth_gauge_add(ngx_http_clientauth_metric_e metric,
    ngx_int_t delta);


#endif /* _NGX_HTTP_CLIENTAUTH_MODULE_H_INCLUDED_ */
