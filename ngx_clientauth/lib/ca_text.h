/*
 * The words of the customer area: every page, every message the module
 * emits and the password rules, built in for Spanish, French and English,
 * and overridable per language by a theme's texts file.  nginx-free.
 *
 * A text may hold one "{n}", replaced by a number or a duration.  "brand"
 * (the name shown) and "support_contact" are empty unless a theme sets them.
 */

#ifndef CA_TEXT_H
#define CA_TEXT_H

#include <stddef.h>

#define CA_TEXTS(X)                                                          \
    X(BRAND, "brand")                                                        \
    X(SUPPORT_CONTACT, "support_contact")                                    \
    X(AREA, "area")                                                          \
    X(LANGUAGE, "language")                                                  \
    X(LOGIN_TITLE, "login_title")                                            \
    X(LOGIN_INTRO, "login_intro")                                            \
    X(LOGIN_BUTTON, "login_button")                                          \
    X(PASSWORD, "password")                                                  \
    X(FORGOT, "forgot")                                                      \
    X(SHOW_PASSWORD, "show_password")                                        \
    X(ID_EMAIL, "id_email")                                                  \
    X(ID_CUSTOMER_NUMBER, "id_customer_number")                              \
    X(ID_NIC, "id_nic")                                                      \
    X(ID_PHONE, "id_phone")                                                  \
    X(ID_DOMAIN, "id_domain")                                                \
    X(ID_OR, "id_or")                                                        \
    X(INVALID_CREDENTIALS, "invalid_credentials")                            \
    X(LOGGED_OUT, "logged_out")                                              \
    X(PASSWORD_CHANGED, "password_changed")                                  \
    X(NEED_LOGIN, "need_login")                                              \
    X(TOO_MANY_TITLE, "too_many_title")                                      \
    X(TOO_MANY, "too_many")                                                  \
    X(LOCKED_TITLE, "locked_title")                                          \
    X(LOCKED, "locked")                                                      \
    X(SUPPORT, "support")                                                    \
    X(RESET_TITLE, "reset_title")                                            \
    X(RESET_INTRO, "reset_intro")                                            \
    X(RESET_BUTTON, "reset_button")                                          \
    X(RESET_LINK, "reset_link")                                              \
    X(BACK_TO_LOGIN, "back_to_login")                                        \
    X(SENT_TITLE, "sent_title")                                              \
    X(SENT, "sent")                                                          \
    X(SENT_SPAM, "sent_spam")                                                \
    X(NEW_TITLE, "new_title")                                                \
    X(NEW_PASSWORD, "new_password")                                          \
    X(NEW_CONFIRM, "new_confirm")                                            \
    X(NEW_BUTTON, "new_button")                                              \
    X(RULES_TITLE, "rules_title")                                            \
    X(RULES_BROKEN, "rules_broken")                                          \
    X(GENERATE, "generate")                                                  \
    X(GENERATED, "generated")                                                \
    X(RULE_TOO_SHORT, "rule_too_short")                                      \
    X(RULE_TOO_LONG, "rule_too_long")                                        \
    X(RULE_NO_UPPER, "rule_no_upper")                                        \
    X(RULE_NO_LOWER, "rule_no_lower")                                        \
    X(RULE_NO_DIGIT, "rule_no_digit")                                        \
    X(RULE_NO_SPECIAL, "rule_no_special")                                    \
    X(RULE_WHITESPACE, "rule_whitespace")                                    \
    X(RULE_IDENTIFIER, "rule_identifier")                                    \
    X(RULE_COMMON, "rule_common")                                            \
    X(RULE_REUSED, "rule_reused")                                            \
    X(RULE_MISMATCH, "rule_mismatch")                                        \
    X(RULE_INVALID, "rule_invalid")                                          \
    X(GONE_TITLE, "gone_title")                                              \
    X(GONE, "gone")                                                          \
    X(BAD_TITLE, "bad_title")                                                \
    X(BAD_REQUEST, "bad_request")                                            \
    X(MISSING_LOGIN, "missing_login")                                        \
    X(MISSING_IDENTIFIER, "missing_identifier")                              \
    X(MISSING_NEW, "missing_new")                                            \
    X(PASSWORD_TOO_LONG, "password_too_long")                                \
    X(UNAVAILABLE_TITLE, "unavailable_title")                                \
    X(UNAVAILABLE, "unavailable")                                            \
    X(BUSY, "busy")                                                          \
    X(FORBIDDEN_TITLE, "forbidden_title")                                    \
    X(FORBIDDEN, "forbidden")                                                \
    X(CROSS_SITE, "cross_site")                                              \
    X(NOT_ALLOWED, "not_allowed")                                            \
    X(SECONDS, "seconds")                                                    \
    X(SECOND, "second")                                                      \
    X(MINUTES, "minutes")                                                    \
    X(MINUTE, "minute")                                                      \
    X(HOURS, "hours")                                                        \
    X(HOUR, "hour")                                                          \
    X(DAYS, "days")                                                          \
    X(DAY, "day")                                                            \
    X(SECURE_NOTE, "secure_note")                                            \
    /* self-service area (issue 10) */                                       \
    X(ACCOUNT_TITLE, "account_title")                                        \
    X(ACCOUNT_PROFILE, "account_profile")                                    \
    X(ACCOUNT_EMAIL, "account_email")                                        \
    X(ACCOUNT_PASSWORD, "account_password")                                  \
    X(CURRENT_PASSWORD, "current_password")                                  \
    X(ACCOUNT_PASSWORD_BUTTON, "account_password_button")                    \
    X(ACCOUNT_PASSWORD_DONE, "account_password_done")                        \
    X(WRONG_PASSWORD, "wrong_password")                                      \
    X(MISSING_CHANGE, "missing_change")                                      \
    X(ACCOUNT_LOGOUT, "account_logout")                                      \
    X(CSRF, "csrf")                                                          \
    X(NOT_FOUND, "not_found")                                                \
    X(SESSIONS_TITLE, "sessions_title")                                      \
    X(SESSIONS_INTRO, "sessions_intro")                                      \
    X(SESSION_CURRENT, "session_current")                                    \
    X(SESSION_CREATED, "session_created")                                    \
    X(SESSION_SEEN, "session_seen")                                          \
    X(SESSION_REVOKE, "session_revoke")                                      \
    X(SESSION_REVOKE_ALL, "session_revoke_all")                              \
    X(SESSION_REVOKED, "session_revoked")                                    \
    X(SESSIONS_REVOKED, "sessions_revoked")                                  \
    X(SESSION_UNKNOWN, "session_unknown")                                    \
    /* self-service: forgotten identifier */                                 \
    X(FORGOT_IDENTIFIER, "forgot_identifier")                                \
    X(REMIND_TITLE, "remind_title")                                          \
    X(REMIND_INTRO, "remind_intro")                                          \
    X(REMIND_SENT, "remind_sent")                                            \
    /* self-service: e-mail change */                                        \
    X(EMAIL_CHANGE_TITLE, "email_change_title")                              \
    X(EMAIL_CHANGE_INTRO, "email_change_intro")                              \
    X(EMAIL_NEW, "email_new")                                                \
    X(EMAIL_CHANGE_BUTTON, "email_change_button")                            \
    X(EMAIL_CODE, "email_code")                                              \
    X(EMAIL_CODE_BUTTON, "email_code_button")                                \
    X(EMAIL_CANCEL_BUTTON, "email_cancel_button")                            \
    X(EMAIL_LINK_SENT, "email_link_sent")                                    \
    X(EMAIL_VERIFIED_NOTE, "email_verified_note")                            \
    X(EMAIL_GRACE, "email_grace")                                            \
    X(EMAIL_REQUESTED, "email_requested")                                    \
    X(EMAIL_CONFIRMED, "email_confirmed")                                    \
    X(EMAIL_VERIFIED, "email_verified")                                      \
    X(EMAIL_CHANGED, "email_changed")                                        \
    X(EMAIL_CANCELLED, "email_cancelled")                                    \
    X(EMAIL_CANCEL_TITLE, "email_cancel_title")                              \
    X(EMAIL_CANCEL_INTRO, "email_cancel_intro")                              \
    X(EMAIL_CANCELLED_LINK, "email_cancelled_link")                          \
    X(INVALID_EMAIL, "invalid_email")                                        \
    X(SAME_EMAIL, "same_email")                                              \
    X(EMAIL_UNAVAILABLE, "email_unavailable")                                \
    X(MISSING_EMAIL, "missing_email")                                        \
    X(MISSING_CODE, "missing_code")                                          \
    X(WRONG_CODE, "wrong_code")                                              \
    X(CODE_DEAD, "code_dead")                                                \
    X(NO_EMAIL_CHANGE, "no_email_change")                                    \
    /* sub-users: invitations */                                             \
    X(INVITE_TITLE, "invite_title")                                          \
    X(INVITE_INTRO, "invite_intro")                                          \
    X(INVITE_GONE, "invite_gone")                                            \
    X(INVITE_TAKEN, "invite_taken")                                          \
    X(INVITE_DONE, "invite_done")                                            \
    X(USERS_TITLE, "users_title")                                            \
    X(USERS_INTRO, "users_intro")                                            \
    X(USERS_EMAIL, "users_email")                                            \
    X(USERS_PERMS, "users_perms")                                            \
    X(USERS_STATUS, "users_status")                                          \
    X(USERS_LAST_LOGIN, "users_last_login")                                  \
    X(USERS_NEVER, "users_never")                                            \
    X(USERS_OWNER, "users_owner")                                            \
    X(USERS_ALL, "users_all")                                                \
    X(USERS_ACTIVE, "users_active")                                          \
    X(USERS_LOCKED, "users_locked")                                          \
    X(USERS_REMOVE, "users_remove")                                          \
    X(USERS_SAVE, "users_save")                                              \
    X(USERS_INVITE_TITLE, "users_invite_title")                              \
    X(USERS_INVITE_BUTTON, "users_invite_button")                            \
    X(USERS_PENDING, "users_pending")                                        \
    X(USERS_EXPIRES, "users_expires")                                        \
    X(USERS_RESEND, "users_resend")                                          \
    X(USERS_CANCEL, "users_cancel")                                          \
    X(USERS_INVITED, "users_invited")                                        \
    X(USERS_INVITE_CANCELLED, "users_invite_cancelled")                      \
    X(USERS_PERMS_CHANGED, "users_perms_changed")                            \
    X(USERS_REMOVED, "users_removed")                                        \
    X(USERS_FORBIDDEN, "users_forbidden")                                    \
    X(USERS_NOT_HELD, "users_not_held")                                      \
    X(USERS_IS_OWNER, "users_is_owner")                                      \
    X(USERS_TAKEN, "users_taken")                                            \
    X(USERS_BAD_EMAIL, "users_bad_email")                                    \
    X(USERS_UNKNOWN, "users_unknown")                                        \
    X(USERS_NO_INVITE, "users_no_invite")                                    \
    X(USERS_MISSING_PERM, "users_missing_perm")                              \
    X(USERS_BACK, "users_back")                                              \
    X(USERS_LINK, "users_link")                                              \
    X(PERM_BILLING, "perm_billing")                                          \
    X(PERM_ORDERS, "perm_orders")                                            \
    X(PERM_TECHNICAL, "perm_technical")                                      \
    X(PERM_DOMAINS, "perm_domains")                                          \
    X(PERM_CONTACTS, "perm_contacts")                                        \
    X(PERM_USERS, "perm_users")                                              \
    /* sub-users: invitations' rate limit */                                 \
    X(USERS_TOO_MANY, "users_too_many")

#define CA_TEXT_ENUM(id, name)  CA_T_##id,

typedef enum {
    CA_TEXTS(CA_TEXT_ENUM)
    CA_T_COUNT
} ca_text_e;

#define CA_TEXT_LEN_MAX  1024     /* one text, bytes */

/* One language's texts; a theme's override the built-in ones. */
typedef struct {
    const char  *t[CA_T_COUNT];
} ca_texts_t;

/* The key of a text, and the text a key names (-1: none). */
const char *ca_text_name(ca_text_e id);
int ca_text_find(const char *name, size_t len);

/* The built-in languages: "es fr en"; -1 for any other tag. */
int ca_text_builtin(const char *tag, size_t len);

/* Texts of built-in language lang, or all NULL for -1. */
void ca_texts_init(ca_texts_t *texts, int lang);

/*
 * Reads a texts file ("key = value" lines, "#" comments) into texts; buf
 * (len + 1 bytes) is changed in place and must outlive texts.  0, or -1
 * with "file:line: why" in err.
 */
int ca_texts_parse(ca_texts_t *texts, char *buf, size_t len,
    const char *file, char *err, size_t errlen);

/* The first text left unset, or -1. */
int ca_texts_missing(const ca_texts_t *texts);

/*
 * text with "{n}" replaced by arg, into dst (size bytes, NUL-terminated);
 * the length it needed.
 */
size_t ca_text_format(char *dst, size_t size, const char *text,
    const char *arg);

/* "15 minutes", "1 hour": seconds in words, rounded up; its length. */
size_t ca_text_duration(const ca_texts_t *texts, long seconds, char *dst,
    size_t size);

/* The checklist text of a password rule bit (ca_policy.h), or -1. */
int ca_text_rule(unsigned rule);

#endif /* CA_TEXT_H */
