
/*
 * ngx_clientauth: directives, configuration and process hooks.
 */


#include <sodium.h>

#include "ngx_http_clientauth_module.h"
#include "ngx_http_clientauth_redis.h"
#include "ngx_http_clientauth_hash.h"
#include "ngx_http_clientauth_account.h"


static void *ngx_http_clientauth_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_clientauth_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_clientauth_create_srv_conf(ngx_conf_t *cf);
static char *ngx_http_clientauth_merge_srv_conf(ngx_conf_t *cf, void *parent,
    void *child);
static void *ngx_http_clientauth_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_clientauth_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_clientauth_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_clientauth_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_clientauth_init_process(ngx_cycle_t *cycle);
static void ngx_http_clientauth_exit_process(ngx_cycle_t *cycle);

static char *ngx_http_clientauth_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_clientauth_redis_option(ngx_conf_t *cf,
    ngx_http_clientauth_redis_conf_t *rcf, ngx_str_t *option);
static char *ngx_http_clientauth_redis_address(ngx_conf_t *cf,
    ngx_http_clientauth_redis_conf_t *rcf);
static char *ngx_http_clientauth_redis_sentinels(ngx_conf_t *cf,
    ngx_http_clientauth_redis_conf_t *rcf, ngx_str_t *list);
static char *ngx_http_clientauth_redis_form(ngx_conf_t *cf,
    ngx_http_clientauth_redis_conf_t *rcf);
static ngx_int_t ngx_http_clientauth_resolve(ngx_conf_t *cf, ngx_str_t *name,
    in_port_t default_port, ngx_str_t *host, in_port_t *port);
static char *ngx_http_clientauth_identifiers(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_clientauth_time_or_off(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_clientauth_require(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_clientauth_endpoint(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_clientauth_failure_floor(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_clientauth_hash_cost(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_clientauth_login_limit(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_clientauth_lockout(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_clientauth_invite_limit(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_clientauth_outbox(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_clientauth_session_cache(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static void ngx_http_clientauth_merge_throttle(
    ngx_http_clientauth_srv_conf_t *prev, ngx_http_clientauth_srv_conf_t *conf);
static char *ngx_http_clientauth_merge_brand(ngx_conf_t *cf,
    ngx_http_clientauth_srv_conf_t *conf);
static char *ngx_http_clientauth_merge_hashing(ngx_conf_t *cf,
    ngx_http_clientauth_srv_conf_t *prev, ngx_http_clientauth_srv_conf_t *conf);


static ngx_conf_num_bounds_t  ngx_http_clientauth_hash_queue_bounds = {
    ngx_conf_check_num_bounds, 1, 100000
};

static ngx_conf_num_bounds_t  ngx_http_clientauth_password_max_bounds = {
    ngx_conf_check_num_bounds, 8, 4096
};

static ngx_conf_num_bounds_t  ngx_http_clientauth_password_min_bounds = {
    ngx_conf_check_num_bounds, 1, 1024
};

static ngx_conf_num_bounds_t  ngx_http_clientauth_history_bounds = {
    ngx_conf_check_num_bounds, 0, NGX_HTTP_CLIENTAUTH_HISTORY_MAX
};

static ngx_conf_enum_t  ngx_http_clientauth_login_notices[] = {
    { ngx_string("off"), NGX_HTTP_CLIENTAUTH_NOTICE_OFF },
    { ngx_string("on"), NGX_HTTP_CLIENTAUTH_NOTICE_ALWAYS },
    { ngx_string("new_device"), NGX_HTTP_CLIENTAUTH_NOTICE_NEW_DEVICE },
    { ngx_null_string, 0 }
};

static ngx_conf_enum_t  ngx_http_clientauth_policies[] = {
    { ngx_string("default"), CA_POLICY_DEFAULT },
    { ngx_string("nist"), CA_POLICY_NIST },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_clientauth_commands[] = {

    { ngx_string("clientauth_redis"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_1MORE,
      ngx_http_clientauth_redis,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("clientauth_brand"),
      NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_clientauth_srv_conf_t, brand),
      NULL },

    { ngx_string("clientauth_identifiers"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_1MORE,
      ngx_http_clientauth_identifiers,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_clientauth_srv_conf_t, identifiers),
      NULL },

    { ngx_string("clientauth_phone_country"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_clientauth_srv_conf_t, phone_country),
      NULL },

    { ngx_string("clientauth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_clientauth_loc_conf_t, enable),
      NULL },

    { ngx_string("clientauth_login_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_clientauth_loc_conf_t, login_url),
      NULL },

    { ngx_string("clientauth_require"),
      NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_clientauth_require,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("clientauth_login"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_clientauth_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_CLIENTAUTH_LOGIN,
      NULL },

    { ngx_string("clientauth_logout"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_clientauth_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_CLIENTAUTH_LOGOUT,
      NULL },

    { ngx_string("clientauth_reset_request"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_clientauth_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_CLIENTAUTH_RESET_REQUEST,
      NULL },

    { ngx_string("clientauth_reset_confirm"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_clientauth_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_CLIENTAUTH_RESET_CONFIRM,
      NULL },

    { ngx_string("clientauth_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_clientauth_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_CLIENTAUTH_STATUS,
      NULL },

    { ngx_string("clientauth_session_idle"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_clientauth_srv_conf_t, session_idle),
      NULL },

    { ngx_string("clientauth_session_lifetime"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_clientauth_srv_conf_t, session_lifetime),
      NULL },

    { ngx_string("clientauth_session_refresh"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_clientauth_srv_conf_t, session_refresh),
      NULL },

    { ngx_string("clientauth_cookie_name"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_clientauth_srv_conf_t, cookie_name),
      NULL },

    { ngx_string("clientauth_cookie_secure"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_clientauth_srv_conf_t, cookie_secure),
      NULL },

    { ngx_string("clientauth_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_clientauth_srv_conf_t, thread_pool_name),
      NULL },

    { ngx_string("clientauth_hash_queue"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_clientauth_main_conf_t, hash_queue),
      &ngx_http_clientauth_hash_queue_bounds },

    { ngx_string("clientauth_hash_cost"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE2,
      ngx_http_clientauth_hash_cost,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("clientauth_login_failure_floor"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_http_clientauth_failure_floor,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("clientauth_password_max_length"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_clientauth_srv_conf_t, password_max),
      &ngx_http_clientauth_password_max_bounds },

    { ngx_string("clientauth_max_body_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_clientauth_loc_conf_t, max_body_size),
      NULL },

    { ngx_string("clientauth_login_limit"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE23,
      ngx_http_clientauth_login_limit,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_clientauth_srv_conf_t, limits),
      NULL },

    { ngx_string("clientauth_reset_limit"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE23,
      ngx_http_clientauth_login_limit,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_clientauth_srv_conf_t, reset_limits),
      NULL },

    { ngx_string("clientauth_reset_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_clientauth_srv_conf_t, reset_url),
      NULL },

    { ngx_string("clientauth_reset_lifetime"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_clientauth_srv_conf_t, reset_lifetime),
      NULL },

    { ngx_string("clientauth_password_policy"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_clientauth_srv_conf_t, password_policy),
      &ngx_http_clientauth_policies },

    { ngx_string("clientauth_password_min_length"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_clientauth_srv_conf_t, password_min),
      &ngx_http_clientauth_password_min_bounds },

    { ngx_string("clientauth_password_history"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_clientauth_srv_conf_t, password_history),
      &ngx_http_clientauth_history_bounds },

    { ngx_string("clientauth_lockout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1234,
      ngx_http_clientauth_lockout,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("clientauth_login_notice"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_clientauth_srv_conf_t, login_notice),
      &ngx_http_clientauth_login_notices },

    { ngx_string("clientauth_outbox"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE12,
      ngx_http_clientauth_outbox,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("clientauth_languages"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_1MORE,
      ngx_http_clientauth_languages,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("clientauth_theme"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_clientauth_srv_conf_t, theme),
      NULL },

    { ngx_string("clientauth_support_contact"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_clientauth_srv_conf_t, support_contact),
      NULL },

    { ngx_string("clientauth_password_generator"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_clientauth_srv_conf_t, password_generator),
      NULL },

    /* the session cache (issue 11) */
    { ngx_string("clientauth_session_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_clientauth_session_cache,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    /* self-service area (issue 10) */
    { ngx_string("clientauth_account"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_clientauth_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_CLIENTAUTH_ACCOUNT,
      NULL },

    /* self-service: forgotten identifier, e-mail change */
    { ngx_string("clientauth_remind"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_clientauth_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_CLIENTAUTH_REMIND,
      NULL },

    { ngx_string("clientauth_recovery_identifiers"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_1MORE,
      ngx_http_clientauth_identifiers,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_clientauth_srv_conf_t, recovery_identifiers),
      NULL },

    { ngx_string("clientauth_email_change_grace"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_http_clientauth_time_or_off,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_clientauth_srv_conf_t, email_change_grace),
      NULL },

    { ngx_string("clientauth_email_cancel"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_clientauth_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_CLIENTAUTH_EMAIL_CANCEL,
      NULL },

    { ngx_string("clientauth_email_verify_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_clientauth_srv_conf_t, email_verify_url),
      NULL },

    { ngx_string("clientauth_email_cancel_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_clientauth_srv_conf_t, email_cancel_url),
      NULL },

    /* sub-users: invitations */

    { ngx_string("clientauth_invite_accept"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_clientauth_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_CLIENTAUTH_INVITE_ACCEPT,
      NULL },

    { ngx_string("clientauth_invite_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_clientauth_srv_conf_t, invite_url),
      NULL },

    { ngx_string("clientauth_invite_lifetime"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_clientauth_srv_conf_t, invite_lifetime),
      NULL },

    { ngx_string("clientauth_invite_limit"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE23,
      ngx_http_clientauth_invite_limit,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_clientauth_module_ctx = {
    ngx_http_clientauth_preconfiguration,    /* preconfiguration */
    ngx_http_clientauth_postconfiguration,   /* postconfiguration */

    ngx_http_clientauth_create_main_conf,    /* create main configuration */
    ngx_http_clientauth_init_main_conf,      /* init main configuration */

    ngx_http_clientauth_create_srv_conf,     /* create server configuration */
    ngx_http_clientauth_merge_srv_conf,      /* merge server configuration */

    ngx_http_clientauth_create_loc_conf,     /* create location configuration */
    ngx_http_clientauth_merge_loc_conf       /* merge location configuration */
};


ngx_module_t  ngx_http_clientauth_module = {
    NGX_MODULE_V1,
    &ngx_http_clientauth_module_ctx,         /* module context */
    ngx_http_clientauth_commands,            /* module directives */
    NGX_HTTP_MODULE,                         /* module type */
    NULL,                                    /* init master */
    NULL,                                    /* init module */
    ngx_http_clientauth_init_process,        /* init process */
    NULL,                                    /* init thread */
    NULL,                                    /* exit thread */
    ngx_http_clientauth_exit_process,        /* exit process */
    NULL,                                    /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_str_t  ngx_http_clientauth_kind_names[] = {
    ngx_string("email"),
    ngx_string("customer_number"),
    ngx_string("nic"),
    ngx_string("phone"),
    ngx_string("domain")
};


static void *
ngx_http_clientauth_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_clientauth_main_conf_t  *amcf;

    if (sodium_init() < 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "clientauth: libsodium failed to initialise");
        return NULL;
    }

    amcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_clientauth_main_conf_t));
    if (amcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     amcf->metrics = NULL;
     *     amcf->hashing = 0;
     */

    if (ngx_array_init(&amcf->redis, cf->pool, 2,
                       sizeof(ngx_http_clientauth_redis_conf_t *))
        != NGX_OK)
    {
        return NULL;
    }

    amcf->hash_queue = NGX_CONF_UNSET_UINT;
    amcf->session_cache = NGX_CONF_UNSET_UINT;

    return amcf;
}


static char *
ngx_http_clientauth_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_clientauth_main_conf_t  *amcf = conf;

    ngx_conf_init_uint_value(amcf->hash_queue, 64);
    ngx_conf_init_uint_value(amcf->session_cache, 10000);

    return NGX_CONF_OK;
}


static void *
ngx_http_clientauth_create_srv_conf(ngx_conf_t *cf)
{
    ngx_http_clientauth_srv_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_clientauth_srv_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->brand = { 0, NULL };
     *     conf->redis = NULL;
     *     conf->identifiers = 0;
     *     conf->phone_country = { 0, NULL };
     *     conf->cookie_name = { 0, NULL };
     *     conf->thread_pool_name = { 0, NULL };
     *     conf->thread_pool = NULL;
     *     conf->hash_cost = { 0, 0 };
     *     conf->dummy_hash = NULL;
     *     conf->failure_floor = 0;
     *     conf->theme = { 0, NULL };
     *     conf->support_contact = { 0, NULL };
     *     conf->urls = { { 0, NULL }, ... };
     *     conf->pages = NULL;
     */

    conf->failure_floor_conf = NGX_CONF_UNSET_MSEC;

    conf->session_idle = NGX_CONF_UNSET_MSEC;
    conf->session_lifetime = NGX_CONF_UNSET_MSEC;
    conf->session_refresh = NGX_CONF_UNSET_MSEC;
    conf->cookie_secure = NGX_CONF_UNSET;
    conf->password_max = NGX_CONF_UNSET_SIZE;
    conf->limits[NGX_HTTP_CLIENTAUTH_LIMIT_ADDRESS].count = NGX_CONF_UNSET_UINT;
    conf->limits[NGX_HTTP_CLIENTAUTH_LIMIT_ACCOUNT].count = NGX_CONF_UNSET_UINT;
    conf->limits[NGX_HTTP_CLIENTAUTH_LIMIT_BRAND].count = NGX_CONF_UNSET_UINT;
    conf->lockout.retries = NGX_CONF_UNSET_UINT;
    conf->login_notice = NGX_CONF_UNSET_UINT;
    conf->outbox_maxlen = NGX_CONF_UNSET_UINT;
    conf->reset_limits[NGX_HTTP_CLIENTAUTH_LIMIT_ADDRESS].count =
                                                          NGX_CONF_UNSET_UINT;
    conf->reset_limits[NGX_HTTP_CLIENTAUTH_LIMIT_ACCOUNT].count =
                                                          NGX_CONF_UNSET_UINT;
    conf->reset_limits[NGX_HTTP_CLIENTAUTH_LIMIT_BRAND].count =
                                                          NGX_CONF_UNSET_UINT;
    conf->reset_lifetime = NGX_CONF_UNSET_MSEC;
    conf->password_policy = NGX_CONF_UNSET_UINT;
    conf->password_min = NGX_CONF_UNSET_UINT;
    conf->password_history = NGX_CONF_UNSET_UINT;
    conf->languages = NGX_CONF_UNSET_PTR;
    conf->password_generator = NGX_CONF_UNSET;
    conf->email_change_grace = NGX_CONF_UNSET_MSEC;
    conf->invite_lifetime = NGX_CONF_UNSET_MSEC;
    conf->invite_limits[0].count = NGX_CONF_UNSET_UINT;
    conf->invite_limits[1].count = NGX_CONF_UNSET_UINT;

    return conf;
}


static char *
ngx_http_clientauth_merge_srv_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_clientauth_srv_conf_t *prev = parent;
    ngx_http_clientauth_srv_conf_t *conf = child;

    ngx_uint_t  i;

    if (conf->redis == NULL) {
        conf->redis = prev->redis;
    }

    if (conf->identifiers == 0) {
        conf->identifiers = prev->identifiers ? prev->identifiers
                                              : CA_ID_EMAIL;
    }

    /* what recovers an account: its login kinds, and its e-mail address */
    if (conf->recovery_identifiers == 0) {
        conf->recovery_identifiers = prev->recovery_identifiers
                                     ? prev->recovery_identifiers
                                     : (conf->identifiers | CA_ID_EMAIL);
    }

    ngx_conf_merge_msec_value(conf->email_change_grace,
                              prev->email_change_grace, 0);
    ngx_conf_merge_str_value(conf->email_verify_url, prev->email_verify_url,
                             "");
    ngx_conf_merge_str_value(conf->email_cancel_url, prev->email_cancel_url,
                             "");

    ngx_conf_merge_str_value(conf->phone_country, prev->phone_country, "");
    ngx_conf_merge_msec_value(conf->session_idle, prev->session_idle,
                              30 * 60 * 1000);
    ngx_conf_merge_msec_value(conf->session_lifetime, prev->session_lifetime,
                              12 * 60 * 60 * 1000);
    ngx_conf_merge_msec_value(conf->session_refresh, prev->session_refresh,
                              60 * 1000);
    ngx_conf_merge_value(conf->cookie_secure, prev->cookie_secure, 1);
    ngx_conf_merge_str_value(conf->thread_pool_name, prev->thread_pool_name,
                             "clientauth");
    ngx_conf_merge_size_value(conf->password_max, prev->password_max, 128);

    ngx_conf_merge_uint_value(conf->login_notice, prev->login_notice,
                              NGX_HTTP_CLIENTAUTH_NOTICE_OFF);
    ngx_conf_merge_str_value(conf->outbox, prev->outbox, "clientauth:outbox");
    ngx_conf_merge_uint_value(conf->outbox_maxlen, prev->outbox_maxlen,
                              100000);
    ngx_http_clientauth_merge_throttle(prev, conf);

    ngx_conf_merge_str_value(conf->reset_url, prev->reset_url,
                             "/auth/reset/confirm");
    ngx_conf_merge_msec_value(conf->reset_lifetime, prev->reset_lifetime,
                              2 * 60 * 60 * 1000);
    ngx_conf_merge_uint_value(conf->password_policy, prev->password_policy,
                              CA_POLICY_DEFAULT);
    ngx_conf_merge_uint_value(conf->password_min, prev->password_min,
                              conf->password_policy == CA_POLICY_NIST ? 15 : 8);
    ngx_conf_merge_uint_value(conf->password_history, prev->password_history,
                              5);

    /* sub-users */
    ngx_conf_merge_str_value(conf->invite_url, prev->invite_url,
                             "/auth/invite");
    ngx_conf_merge_msec_value(conf->invite_lifetime, prev->invite_lifetime,
                              7 * 24 * 60 * 60 * 1000);

    if (conf->invite_lifetime < 1000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "clientauth_invite_lifetime must be 1s or more");
        return NGX_CONF_ERROR;
    }

    /* invitations sent: 20 an hour per account, 10 per inviter */
    for (i = 0; i < 2; i++) {
        if (conf->invite_limits[i].count == NGX_CONF_UNSET_UINT) {
            conf->invite_limits[i] = prev->invite_limits[i];
        }

        if (conf->invite_limits[i].count == NGX_CONF_UNSET_UINT) {
            conf->invite_limits[i].count = i ? 10 : 20;
            conf->invite_limits[i].window = 60 * 60 * 1000;
        }
    }

    if (conf->hash_cost.opslimit == 0) {
        conf->hash_cost = prev->hash_cost;
    }

    ngx_conf_merge_msec_value(conf->failure_floor_conf,
                              prev->failure_floor_conf,
                              NGX_HTTP_CLIENTAUTH_FLOOR_AUTO);

    if (conf->hash_cost.opslimit == 0) {
        conf->hash_cost.opslimit = 2;
        conf->hash_cost.memlimit = 19 * 1024 * 1024;
    }

    if (ngx_http_clientauth_merge_brand(cf, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_clientauth_pages_init(cf, prev, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return ngx_http_clientauth_merge_hashing(cf, prev, conf);
}


/*
 * Defaults stop a brute force early: 5 wrong passwords lock an identifier
 * out for 5 minutes, then 10, 20, ... up to a day; besides, 10 attempts per
 * identifier in 15 minutes, 30 per client address in 5 minutes, and 6000 a
 * minute for the whole brand.
 */

static void
ngx_http_clientauth_merge_limits(ngx_http_clientauth_limit_t *conf,
    ngx_http_clientauth_limit_t *prev,
    const ngx_http_clientauth_limit_t *defaults)
{
    ngx_uint_t  s;

    for (s = 0; s < NGX_HTTP_CLIENTAUTH_LIMITS; s++) {
        if (conf[s].count == NGX_CONF_UNSET_UINT) {
            conf[s] = (prev[s].count != NGX_CONF_UNSET_UINT) ? prev[s]
                                                             : defaults[s];
        }
    }
}


static void
ngx_http_clientauth_merge_throttle(ngx_http_clientauth_srv_conf_t *prev,
    ngx_http_clientauth_srv_conf_t *conf)
{
    static const ngx_http_clientauth_limit_t  login[] = {
        { 30, 5 * 60 * 1000 },
        { 10, 15 * 60 * 1000 },
        { 6000, 60 * 1000 }
    };

    /* reset links: 3 an hour per account, 10 an hour per address */
    static const ngx_http_clientauth_limit_t  reset[] = {
        { 10, 60 * 60 * 1000 },
        { 3, 60 * 60 * 1000 },
        { 0, 0 }
    };

    ngx_http_clientauth_merge_limits(conf->limits, prev->limits, login);
    ngx_http_clientauth_merge_limits(conf->reset_limits, prev->reset_limits,
                                     reset);

    if (conf->lockout.retries != NGX_CONF_UNSET_UINT) {
        return;
    }

    if (prev->lockout.retries != NGX_CONF_UNSET_UINT) {
        conf->lockout = prev->lockout;
        return;
    }

    conf->lockout.retries = 5;
    conf->lockout.find_time = 15 * 60 * 1000;
    conf->lockout.ban_time = 5 * 60 * 1000;
    conf->lockout.max_ban = 24 * 60 * 60 * 1000;
}


static char *
ngx_http_clientauth_merge_brand(ngx_conf_t *cf,
    ngx_http_clientauth_srv_conf_t *conf)
{
    ngx_uint_t   i;
    const char  *prefix;

    if (conf->brand.len
        && !ca_brand_is_valid((char *) conf->brand.data, conf->brand.len))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "clientauth_brand \"%V\" is invalid: use 1 to %d "
                           "of a-z, 0-9, '_' and '-'", &conf->brand,
                           CA_BRAND_MAX);
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < conf->phone_country.len; i++) {
        if (conf->phone_country.data[i] < '0'
            || conf->phone_country.data[i] > '9' || i == 3)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "clientauth_phone_country \"%V\" is not a "
                               "country calling code", &conf->phone_country);
            return NGX_CONF_ERROR;
        }
    }

    if (conf->cookie_name.data == NULL && conf->brand.len) {
        /*
         * "__Host-": browsers take it only from this very host, over
         * HTTPS, for Path=/, so a sibling subdomain cannot plant one.
         */
        prefix = conf->cookie_secure ? "__Host-" : "";

        conf->cookie_name.len = ngx_strlen(prefix) + sizeof("clientauth_") - 1
                                + conf->brand.len;
        conf->cookie_name.data = ngx_pnalloc(cf->pool, conf->cookie_name.len);
        if (conf->cookie_name.data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_sprintf(conf->cookie_name.data, "%sclientauth_%V", prefix,
                    &conf->brand);
    }

    if (conf->session_refresh > conf->session_idle) {
        conf->session_refresh = conf->session_idle;
    }

    return NGX_CONF_OK;
}


/*
 * Servers that log users in need the thread pool and a hash to verify
 * against when the account does not exist, made with the server's own cost
 * so that unknown accounts take as long as known ones.
 */

static char *
ngx_http_clientauth_merge_hashing(ngx_conf_t *cf,
    ngx_http_clientauth_srv_conf_t *prev, ngx_http_clientauth_srv_conf_t *conf)
{
    ngx_http_clientauth_main_conf_t  *amcf;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_clientauth_module);

    if (!amcf->hashing || conf->brand.len == 0) {
        return NGX_CONF_OK;
    }

    conf->thread_pool = ngx_thread_pool_add(cf, &conf->thread_pool_name);
    if (conf->thread_pool == NULL) {
        return NGX_CONF_ERROR;
    }

    if (prev->dummy_hash
        && prev->hash_cost.opslimit == conf->hash_cost.opslimit
        && prev->hash_cost.memlimit == conf->hash_cost.memlimit)
    {
        conf->dummy_hash = prev->dummy_hash;
        conf->failure_floor = prev->failure_floor;

    } else {
        conf->dummy_hash = ngx_http_clientauth_hash_dummy(cf,
                                                          &conf->hash_cost);
        if (conf->dummy_hash == NULL) {
            return NGX_CONF_ERROR;
        }

        conf->failure_floor = 0;
    }

    if (conf->failure_floor_conf != NGX_HTTP_CLIENTAUTH_FLOOR_AUTO) {
        conf->failure_floor = conf->failure_floor_conf;
        return NGX_CONF_OK;
    }

    if (conf->failure_floor == 0) {
        conf->failure_floor = ngx_http_clientauth_hash_floor(cf,
                                                         &conf->hash_cost);
        if (conf->failure_floor == 0) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_clientauth_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_clientauth_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_clientauth_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->login_url = { 0, NULL };
     */

    conf->enable = NGX_CONF_UNSET;
    conf->require = NGX_CONF_UNSET_PTR;
    conf->max_body_size = NGX_CONF_UNSET_SIZE;

    return conf;
}


static char *
ngx_http_clientauth_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_clientauth_loc_conf_t *prev = parent;
    ngx_http_clientauth_loc_conf_t *conf = child;

    ngx_uint_t                       require_here;
    ngx_http_clientauth_srv_conf_t  *ascf;

    require_here = (conf->require != NGX_CONF_UNSET_PTR);

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_str_value(conf->login_url, prev->login_url, "/auth/login");
    ngx_conf_merge_ptr_value(conf->require, prev->require, NULL);
    ngx_conf_merge_size_value(conf->max_body_size, prev->max_body_size, 4096);

    /*
     * Without a session there is no permission to check: the location would
     * be open to everyone.  An inherited one under an explicit
     * "clientauth off" is a public corner of a protected tree, and fine.
     */
    if (require_here && !conf->enable) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"clientauth_require\" needs \"clientauth on\" "
                           "in its location or above: with clientauth off "
                           "the permissions would not be checked");
        return NGX_CONF_ERROR;
    }

    if (!conf->enable
        && (conf->endpoint == NGX_HTTP_CLIENTAUTH_NONE
            || conf->endpoint == NGX_HTTP_CLIENTAUTH_STATUS))
    {
        return NGX_CONF_OK;
    }

    /* a protected location that could not check sessions would be open */
    ascf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_clientauth_module);

    if (ascf->brand.len == 0 || ascf->redis == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "clientauth needs \"clientauth_brand\" and "
                           "\"clientauth_redis\" in the server");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_clientauth_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_clientauth_add_variables(cf);
}


static ngx_int_t
ngx_http_clientauth_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_handler_pt              *h;
    ngx_http_core_main_conf_t        *cmcf;
    ngx_http_clientauth_main_conf_t  *amcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_clientauth_access_handler;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_POST_READ_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_clientauth_strip_handler;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_clientauth_module);

    return ngx_http_clientauth_metrics_init(cf, amcf);
}


static ngx_int_t
ngx_http_clientauth_init_process(ngx_cycle_t *cycle)
{
    /* the cache manager and loader serve no requests */
    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    if (sodium_init() < 0) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "clientauth: libsodium failed to initialise");
        return NGX_ERROR;
    }

    ngx_http_clientauth_hash_init_process(cycle);

    return ngx_http_clientauth_redis_init_process(cycle);
}


static void
ngx_http_clientauth_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_clientauth_redis_exit_process(cycle);
}


/*
 * clientauth_redis ADDRESS [password=P] [db=N] [timeout=T] [replicas=N];
 * clientauth_redis sentinel=H:P[,H:P...] master=NAME [password=P]
 *     [sentinel_password=P] [db=N] [timeout=T] [replicas=N];
 */

static char *
ngx_http_clientauth_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_clientauth_srv_conf_t *ascf = conf;

    ngx_str_t                          *value;
    ngx_uint_t                          i;
    ngx_http_clientauth_redis_conf_t   *rcf, **slot;
    ngx_http_clientauth_main_conf_t    *amcf;

    if (ascf->redis) {
        return "is duplicate";
    }

    rcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_clientauth_redis_conf_t));
    if (rcf == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;
    rcf->timeout = 500;
    i = 1;

    /* an option has a "=", an address none (but a unix path may) */
    if (ngx_strncmp(value[1].data, "unix:", 5) == 0
        || ngx_strlchr(value[1].data, value[1].data + value[1].len, '=')
           == NULL)
    {
        rcf->name = value[1];
        i = 2;
    }

    for ( /* void */ ; i < cf->args->nelts; i++) {
        if (ngx_http_clientauth_redis_option(cf, rcf, &value[i])
            != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_clientauth_redis_form(cf, rcf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (rcf->sentinels == NULL
        && ngx_http_clientauth_redis_address(cf, rcf) != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_clientauth_module);

    slot = ngx_array_push(&amcf->redis);
    if (slot == NULL) {
        return NGX_CONF_ERROR;
    }

    rcf->index = amcf->redis.nelts - 1;
    *slot = rcf;
    ascf->redis = rcf;

    return NGX_CONF_OK;
}


/* Either an address, or sentinel= with master=: never both, never half. */

static char *
ngx_http_clientauth_redis_form(ngx_conf_t *cf,
    ngx_http_clientauth_redis_conf_t *rcf)
{
    if (rcf->sentinels == NULL) {
        if (rcf->master.len || rcf->sentinel_password.len) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "clientauth_redis: \"master=\" and "
                               "\"sentinel_password=\" need \"sentinel=\"");
            return NGX_CONF_ERROR;
        }

        if (rcf->name.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "clientauth_redis needs an address, or "
                               "\"sentinel=\" and \"master=\"");
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (rcf->name.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "clientauth_redis takes an address or "
                           "\"sentinel=\", not both: \"%V\"", &rcf->name);
        return NGX_CONF_ERROR;
    }

    if (rcf->master.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "clientauth_redis \"sentinel=\" needs "
                           "\"master=NAME\"");
        return NGX_CONF_ERROR;
    }

    /* logs name the primary by its master name */
    rcf->name = rcf->master;

    return NGX_CONF_OK;
}


static char *
ngx_http_clientauth_redis_option(ngx_conf_t *cf,
    ngx_http_clientauth_redis_conf_t *rcf, ngx_str_t *option)
{
    ngx_int_t  n;
    ngx_str_t  s;

    if (ngx_strncmp(option->data, "password=", 9) == 0) {
        rcf->password.data = option->data + 9;
        rcf->password.len = option->len - 9;
        return NGX_CONF_OK;
    }

    if (ngx_strncmp(option->data, "db=", 3) == 0) {
        rcf->db = ngx_atoi(option->data + 3, option->len - 3);
        if (rcf->db == NGX_ERROR || rcf->db > 15) {
            goto invalid;
        }

        return NGX_CONF_OK;
    }

    if (ngx_strncmp(option->data, "timeout=", 8) == 0) {
        s.data = option->data + 8;
        s.len = option->len - 8;

        rcf->timeout = ngx_parse_time(&s, 0);
        if (rcf->timeout == (ngx_msec_t) NGX_ERROR || rcf->timeout == 0) {
            goto invalid;
        }

        return NGX_CONF_OK;
    }

    /* Redis Sentinel (ngx_http_clientauth_sentinel.c) */

    if (ngx_strncmp(option->data, "sentinel=", 9) == 0) {
        if (rcf->sentinels) {
            goto invalid;
        }

        s.data = option->data + 9;
        s.len = option->len - 9;

        return ngx_http_clientauth_redis_sentinels(cf, rcf, &s);
    }

    if (ngx_strncmp(option->data, "master=", 7) == 0) {
        rcf->master.data = option->data + 7;
        rcf->master.len = option->len - 7;

        /* it goes into a command and is matched in messages: one word */
        if (rcf->master.len == 0
            || ngx_strlchr(rcf->master.data,
                           rcf->master.data + rcf->master.len, ' ')
               != NULL)
        {
            goto invalid;
        }

        return NGX_CONF_OK;
    }

    if (ngx_strncmp(option->data, "sentinel_password=", 18) == 0) {
        rcf->sentinel_password.data = option->data + 18;
        rcf->sentinel_password.len = option->len - 18;
        return NGX_CONF_OK;
    }

    /* durable writes (issue 12) */
    if (ngx_strncmp(option->data, "replicas=", 9) == 0) {
        n = ngx_atoi(option->data + 9, option->len - 9);
        if (n == NGX_ERROR || n > 64) {
            goto invalid;
        }

        rcf->replicas = n;
        return NGX_CONF_OK;
    }

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid clientauth_redis parameter \"%V\"", option);
    return NGX_CONF_ERROR;
}


/* sentinel=H:P[,H:P...], each resolved here, the port 26379 by default. */

static char *
ngx_http_clientauth_redis_sentinels(ngx_conf_t *cf,
    ngx_http_clientauth_redis_conf_t *rcf, ngx_str_t *list)
{
    u_char                               *p, *last, *comma;
    ngx_http_clientauth_sentinel_addr_t  *sa;

    rcf->sentinels = ngx_array_create(cf->pool, 3,
                                  sizeof(ngx_http_clientauth_sentinel_addr_t));
    if (rcf->sentinels == NULL) {
        return NGX_CONF_ERROR;
    }

    p = list->data;
    last = list->data + list->len;

    do {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        sa = ngx_array_push(rcf->sentinels);
        if (sa == NULL) {
            return NGX_CONF_ERROR;
        }

        sa->name.data = p;
        sa->name.len = comma - p;

        if (sa->name.len == 0
            || ngx_http_clientauth_resolve(cf, &sa->name, 26379, &sa->host,
                                           &sa->port)
               != NGX_OK)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid clientauth_redis sentinel \"%V\"",
                               &sa->name);
            return NGX_CONF_ERROR;
        }

        p = comma + 1;

    } while (comma < last);

    return NGX_CONF_OK;
}


/* Resolved here, once: a worker never waits on DNS. */

static char *
ngx_http_clientauth_redis_address(ngx_conf_t *cf,
    ngx_http_clientauth_redis_conf_t *rcf)
{
    u_char  *p;

    if (ngx_strncmp(rcf->name.data, "unix:", 5) == 0) {
        if (rcf->name.len == 5) {
            goto invalid;
        }

        rcf->path.len = rcf->name.len - 5;
        rcf->path.data = ngx_pnalloc(cf->pool, rcf->path.len + 1);
        if (rcf->path.data == NULL) {
            return NGX_CONF_ERROR;
        }

        p = ngx_cpymem(rcf->path.data, rcf->name.data + 5, rcf->path.len);
        *p = '\0';

        return NGX_CONF_OK;
    }

    if (ngx_http_clientauth_resolve(cf, &rcf->name, 6379, &rcf->host,
                                    &rcf->port)
        == NGX_OK)
    {
        return NGX_CONF_OK;
    }

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid clientauth_redis address \"%V\"", &rcf->name);
    return NGX_CONF_ERROR;
}


/* HOST[:PORT] to a numeric, NUL-terminated host and a port. */

static ngx_int_t
ngx_http_clientauth_resolve(ngx_conf_t *cf, ngx_str_t *name,
    in_port_t default_port, ngx_str_t *host, in_port_t *port)
{
    u_char     *p;
    ngx_url_t   u;
    u_char      text[NGX_SOCKADDR_STRLEN];

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url = *name;
    u.default_port = default_port;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
        if (u.err) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%s in clientauth_redis \"%V\"",
                               u.err, name);
        }

        return NGX_ERROR;
    }

    *port = ngx_inet_get_port(u.addrs[0].sockaddr);
    host->len = ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen,
                              text, NGX_SOCKADDR_STRLEN, 0);
    host->data = ngx_pnalloc(cf->pool, host->len + 1);
    if (host->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(host->data, text, host->len);
    *p = '\0';

    return NGX_OK;
}


/* clientauth_identifiers, clientauth_recovery_identifiers: KIND ... */

static char *
ngx_http_clientauth_identifiers(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_uint_t    *mask = (ngx_uint_t *) ((char *) conf + cmd->offset);

    ngx_str_t     *value;
    ngx_uint_t     i;
    ca_id_kind_e   kind;

    if (*mask) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        kind = ca_ident_kind_from_name((char *) value[i].data, value[i].len);

        if (kind == CA_ID_NONE) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown identifier kind \"%V\", expected "
                               "%V, %V, %V, %V or %V", &value[i],
                               &ngx_http_clientauth_kind_names[0],
                               &ngx_http_clientauth_kind_names[1],
                               &ngx_http_clientauth_kind_names[2],
                               &ngx_http_clientauth_kind_names[3],
                               &ngx_http_clientauth_kind_names[4]);
            return NGX_CONF_ERROR;
        }

        *mask |= kind;
    }

    return NGX_CONF_OK;
}


/* TIME | off (0), for ngx_msec_t fields */

static char *
ngx_http_clientauth_time_or_off(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_msec_t  *msp = (ngx_msec_t *) ((char *) conf + cmd->offset);

    ngx_str_t   *value;

    if (*msp != NGX_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 3 && ngx_strncmp(value[1].data, "off", 3) == 0) {
        *msp = 0;
        return NGX_CONF_OK;
    }

    *msp = ngx_parse_time(&value[1], 0);

    if (*msp == (ngx_msec_t) NGX_ERROR || *msp == 0) {
        return "invalid value: expected a time or \"off\"";
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_clientauth_permission_is_valid(ngx_str_t *name)
{
    ngx_uint_t  i;

    if (name->len == 0 || name->len > 32) {
        return 0;
    }

    for (i = 0; i < name->len; i++) {
        if (!((name->data[i] >= 'a' && name->data[i] <= 'z')
              || (name->data[i] >= '0' && name->data[i] <= '9')
              || name->data[i] == '_'))
        {
            return 0;
        }
    }

    return 1;
}


static char *
ngx_http_clientauth_require(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_clientauth_loc_conf_t *alcf = conf;

    ngx_str_t   *value, *perm;
    ngx_uint_t   i;

    if (alcf->require != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    alcf->require = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                     sizeof(ngx_str_t));
    if (alcf->require == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (!ngx_http_clientauth_permission_is_valid(&value[i])) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid permission \"%V\": use 1 to 32 of "
                               "a-z, 0-9 and '_'", &value[i]);
            return NGX_CONF_ERROR;
        }

        perm = ngx_array_push(alcf->require);
        if (perm == NULL) {
            return NGX_CONF_ERROR;
        }

        *perm = value[i];
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_clientauth_endpoint(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t         *clcf;
    ngx_http_clientauth_srv_conf_t   *ascf;
    ngx_http_clientauth_main_conf_t  *amcf;

    ngx_http_clientauth_loc_conf_t *alcf = conf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler) {
        return "is duplicate: the location already has a content handler";
    }

    alcf->endpoint = cmd->offset;

    if (cmd->offset != NGX_HTTP_CLIENTAUTH_STATUS
#if (NGX_PCRE)
        && clcf->regex == NULL
#endif
        && !clcf->named)
    {
        /* the pages link to the server's own endpoints */
        ascf = ngx_http_conf_get_module_srv_conf(cf,
                                                 ngx_http_clientauth_module);
        ascf->urls[cmd->offset] = clcf->name;
    }

    switch (cmd->offset) {

    case NGX_HTTP_CLIENTAUTH_LOGIN:
        clcf->handler = ngx_http_clientauth_login_handler;
        amcf = ngx_http_conf_get_module_main_conf(cf,
                                                  ngx_http_clientauth_module);
        amcf->hashing = 1;
        break;

    case NGX_HTTP_CLIENTAUTH_LOGOUT:
        clcf->handler = ngx_http_clientauth_logout_handler;
        break;

    case NGX_HTTP_CLIENTAUTH_RESET_REQUEST:
        clcf->handler = ngx_http_clientauth_reset_request_handler;
        break;

    case NGX_HTTP_CLIENTAUTH_RESET_CONFIRM:
        clcf->handler = ngx_http_clientauth_reset_confirm_handler;
        amcf = ngx_http_conf_get_module_main_conf(cf,
                                                  ngx_http_clientauth_module);
        amcf->hashing = 1;
        break;

    case NGX_HTTP_CLIENTAUTH_ACCOUNT:
        /* the area is the session's: no session, no area */
        if (alcf->enable == 0) {
            return "needs a session: remove \"clientauth off\"";
        }

        alcf->enable = 1;
        clcf->handler = ngx_http_clientauth_account_handler;
        amcf = ngx_http_conf_get_module_main_conf(cf,
                                                  ngx_http_clientauth_module);
        amcf->hashing = 1;
        break;

    case NGX_HTTP_CLIENTAUTH_REMIND:
        clcf->handler = ngx_http_clientauth_remind_handler;
        break;

    case NGX_HTTP_CLIENTAUTH_EMAIL_CANCEL:
        clcf->handler = ngx_http_clientauth_email_cancel_handler;
        break;

    case NGX_HTTP_CLIENTAUTH_INVITE_ACCEPT:
        clcf->handler = ngx_http_clientauth_invite_accept_handler;
        amcf = ngx_http_conf_get_module_main_conf(cf,
                                                  ngx_http_clientauth_module);
        amcf->hashing = 1;
        break;

    default: /* NGX_HTTP_CLIENTAUTH_STATUS */
        clcf->handler = ngx_http_clientauth_status_handler;
        break;
    }

    return NGX_CONF_OK;
}


/*
 * clientauth_login_failure_floor auto | TIME;
 */

static char *
ngx_http_clientauth_failure_floor(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_clientauth_srv_conf_t *ascf = conf;

    ngx_str_t   *value;
    ngx_msec_t   floor;

    if (ascf->failure_floor_conf != NGX_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "auto") == 0) {
        ascf->failure_floor_conf = NGX_HTTP_CLIENTAUTH_FLOOR_AUTO;
        return NGX_CONF_OK;
    }

    floor = ngx_parse_time(&value[1], 0);

    if (floor == (ngx_msec_t) NGX_ERROR || floor > 60000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "clientauth: invalid failure floor \"%V\" "
                           "(\"auto\", or a time up to 60s)", &value[1]);
        return NGX_CONF_ERROR;
    }

    ascf->failure_floor_conf = floor;

    return NGX_CONF_OK;
}


/*
 * clientauth_hash_cost t=N m=SIZE;
 */

static char *
ngx_http_clientauth_hash_cost(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_clientauth_srv_conf_t *ascf = conf;

    ssize_t     m;
    ngx_int_t   t;
    ngx_str_t  *value, s;

    if (ascf->hash_cost.opslimit) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strncmp(value[1].data, "t=", 2) != 0
        || ngx_strncmp(value[2].data, "m=", 2) != 0)
    {
        return "expects \"t=N m=SIZE\"";
    }

    t = ngx_atoi(value[1].data + 2, value[1].len - 2);

    s.data = value[2].data + 2;
    s.len = value[2].len - 2;
    m = ngx_parse_size(&s);

    if (t == NGX_ERROR || t < (ngx_int_t) crypto_pwhash_OPSLIMIT_MIN
        || t > 64)
    {
        return "has an invalid t: use 1 to 64";
    }

    if (m == NGX_ERROR || (size_t) m < crypto_pwhash_MEMLIMIT_MIN
        || m > 1024 * 1024 * 1024)
    {
        return "has an invalid m: use 8k to 1g";
    }

    ascf->hash_cost.opslimit = t;
    ascf->hash_cost.memlimit = m;

    return NGX_CONF_OK;
}


/*
 * clientauth_login_limit address|account|brand N WINDOW;
 * clientauth_login_limit address|account|brand off;
 * clientauth_reset_limit ... likewise.
 */

static char *
ngx_http_clientauth_login_limit(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_clientauth_srv_conf_t *ascf = conf;

    ngx_int_t                     n;
    ngx_str_t                    *value;
    ngx_uint_t                    s;
    ngx_http_clientauth_limit_t  *limit;

    static ngx_str_t  scopes[] = {
        ngx_string("address"), ngx_string("account"), ngx_string("brand")
    };

    value = cf->args->elts;

    for (s = 0; s < NGX_HTTP_CLIENTAUTH_LIMITS; s++) {
        if (value[1].len == scopes[s].len
            && ngx_strncmp(value[1].data, scopes[s].data, scopes[s].len) == 0)
        {
            break;
        }
    }

    if (s == NGX_HTTP_CLIENTAUTH_LIMITS) {
        return "expects address, account or brand";
    }

    limit = (ngx_http_clientauth_limit_t *) ((u_char *) ascf + cmd->offset)
            + s;

    if (limit->count != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    if (cf->args->nelts == 3) {
        if (ngx_strcmp(value[2].data, "off") != 0) {
            return "expects N WINDOW or off";
        }

        limit->count = 0;
        return NGX_CONF_OK;
    }

    n = ngx_atoi(value[2].data, value[2].len);
    limit->window = ngx_parse_time(&value[3], 0);

    if (n == NGX_ERROR || n == 0) {
        return "has an invalid count";
    }

    if (limit->window == (ngx_msec_t) NGX_ERROR || limit->window < 1000) {
        return "has an invalid window: use 1s or more";
    }

    limit->count = n;

    return NGX_CONF_OK;
}


/*
 * clientauth_invite_limit account|inviter N WINDOW;
 * clientauth_invite_limit account|inviter off;
 */

static char *
ngx_http_clientauth_invite_limit(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_clientauth_srv_conf_t *ascf = conf;

    ngx_int_t                     n;
    ngx_str_t                    *value;
    ngx_http_clientauth_limit_t  *limit;

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "account") == 0) {
        limit = &ascf->invite_limits[0];

    } else if (ngx_strcmp(value[1].data, "inviter") == 0) {
        limit = &ascf->invite_limits[1];

    } else {
        return "expects account or inviter";
    }

    if (limit->count != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    if (cf->args->nelts == 3) {
        if (ngx_strcmp(value[2].data, "off") != 0) {
            return "expects N WINDOW or off";
        }

        limit->count = 0;
        return NGX_CONF_OK;
    }

    n = ngx_atoi(value[2].data, value[2].len);
    limit->window = ngx_parse_time(&value[3], 0);

    if (n == NGX_ERROR || n == 0) {
        return "has an invalid count";
    }

    if (limit->window == (ngx_msec_t) NGX_ERROR || limit->window < 1000) {
        return "has an invalid window: use 1s or more";
    }

    limit->count = n;

    return NGX_CONF_OK;
}


/*
 * clientauth_lockout RETRIES FIND_TIME BAN_TIME [max=TIME];
 * clientauth_lockout off;
 */

static char *
ngx_http_clientauth_lockout(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_clientauth_srv_conf_t *ascf = conf;

    ngx_int_t   n;
    ngx_str_t  *value, s;

    if (ascf->lockout.retries != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        ascf->lockout.retries = 0;
        return NGX_CONF_OK;
    }

    if (cf->args->nelts < 4) {
        return "expects RETRIES FIND_TIME BAN_TIME [max=TIME] or off";
    }

    n = ngx_atoi(value[1].data, value[1].len);
    ascf->lockout.find_time = ngx_parse_time(&value[2], 0);
    ascf->lockout.ban_time = ngx_parse_time(&value[3], 0);
    ascf->lockout.max_ban = 24 * 60 * 60 * 1000;

    if (cf->args->nelts == 5) {
        if (ngx_strncmp(value[4].data, "max=", 4) != 0) {
            return "expects max=TIME as its last parameter";
        }

        s.data = value[4].data + 4;
        s.len = value[4].len - 4;
        ascf->lockout.max_ban = ngx_parse_time(&s, 0);
    }

    if (n == NGX_ERROR || n == 0
        || ascf->lockout.find_time == (ngx_msec_t) NGX_ERROR
        || ascf->lockout.ban_time == (ngx_msec_t) NGX_ERROR
        || ascf->lockout.max_ban == (ngx_msec_t) NGX_ERROR
        || ascf->lockout.ban_time < 1000
        || ascf->lockout.max_ban < ascf->lockout.ban_time)
    {
        return "has an invalid parameter";
    }

    ascf->lockout.retries = n;

    return NGX_CONF_OK;
}


/*
 * clientauth_outbox KEY [maxlen=N];
 */

static char *
ngx_http_clientauth_outbox(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_clientauth_srv_conf_t *ascf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (ascf->outbox.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    ascf->outbox = value[1];

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "maxlen=", 7) != 0) {
            return "expects maxlen=N as its second parameter";
        }

        n = ngx_atoi(value[2].data + 7, value[2].len - 7);
        if (n == NGX_ERROR || n == 0) {
            return "has an invalid maxlen";
        }

        ascf->outbox_maxlen = n;
    }

    return NGX_CONF_OK;
}



/*
 * clientauth_session_cache N | off;  sessions each worker keeps, per
 * clientauth_redis.
 */

static char *
ngx_http_clientauth_session_cache(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_clientauth_main_conf_t *amcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (amcf->session_cache != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        amcf->session_cache = 0;
        return NGX_CONF_OK;
    }

    n = ngx_atoi(value[1].data, value[1].len);

    if (n <= 0 || n > CA_SCACHE_CAPACITY_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "clientauth_session_cache \"%V\" is invalid: "
                           "use \"off\" or a number of sessions from 1 to "
                           "%d", &value[1], CA_SCACHE_CAPACITY_MAX);
        return NGX_CONF_ERROR;
    }

    amcf->session_cache = n;

    return NGX_CONF_OK;
}
