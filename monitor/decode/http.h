/* http.h - HTTP/1.x message heads (RFC 9112) for SSL-stripping indicators: the
 * request line and the headers that carry names, credentials and redirects, the
 * response status and its redirect / cookie / HSTS headers, and whether a response
 * body opens with a login form.
 *
 * Privacy: no cookie value, credential or form value is ever kept: cookie names and
 * value lengths, the Authorization scheme and its length, form field names.
 */
#ifndef ONPATH_DEC_HTTP_H
#define ONPATH_DEC_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_LINE_MAX 8192        /* a request, status or header line (nginx's large buffer) */
#define HTTP_HEAD_MAX 32768       /* a whole head */
#define HTTP_MAX_HEADERS 128
#define HTTP_METHOD_MAX 15
#define HTTP_PATH_MAX 255         /* kept; longer paths are cut (path_truncated) */
#define HTTP_HOST_MAX 255         /* RFC 1035 name */
#define HTTP_SCHEME_MAX 15
#define HTTP_CT_MAX 63
#define HTTP_LOCATION_MAX 511
#define HTTP_HSTS_MAX 127
#define HTTP_COOKIE_NAME_MAX 47
#define HTTP_MAX_COOKIES 16       /* names kept per Cookie / all Set-Cookie headers */
#define HTTP_FORM_NAME_MAX 31
#define HTTP_MAX_FORM_FIELDS 8    /* field names kept from a form-encoded request body */
#define HTTP_FORM_SCAN 2048       /* request body bytes read for field names */
#define HTTP_BODY_SCAN 4096       /* response body bytes searched for a login form */
#define HTTP_CHUNK_LINE_MAX 1024

enum http_err {
	HTTP_OK = 0,
	HTTP_MORE,              /* the head is not complete yet */
	HTTP_ERR_NOT_HTTP,      /* the first line is not an HTTP/1.x request / status line */
	HTTP_ERR_LINE_LONG,     /* a line past HTTP_LINE_MAX */
	HTTP_ERR_HEAD_LONG,     /* a head past HTTP_HEAD_MAX */
	HTTP_ERR_HEADERS,       /* more than HTTP_MAX_HEADERS headers */
	HTTP_ERR_NUL,           /* a NUL or another control byte in the head */
	HTTP_ERR_SYNTAX,        /* a header line without a colon, or a folded line */
	HTTP_ERR_LENGTH,        /* a bad or conflicting Content-Length */
	HTTP_ERR_CHUNK,         /* a bad chunk-size line */
	HTTP_ERR__COUNT
};
const char *dec_http_strerror(int err);

/* Cookie flags (Set-Cookie attributes). */
#define HTTP_CK_SECURE 0x01
#define HTTP_CK_HTTPONLY 0x02
#define HTTP_CK_SAMESITE 0x04

struct http_cookie {
	char name[HTTP_COOKIE_NAME_MAX + 1];
	uint16_t value_len;     /* the value is never kept */
	uint8_t flags;
};

struct http_msg {
	bool response;
	uint8_t index;                       /* request/response number in the connection, from 0 */
	uint8_t minor;                       /* HTTP/1.<minor> */
	/* The request (for a response: the request it answers, when seen). */
	bool has_request;
	char method[HTTP_METHOD_MAX + 1];
	char path[HTTP_PATH_MAX + 1];
	bool path_truncated;
	char host[HTTP_HOST_MAX + 1];        /* Host, lower case, without port and final dot */
	uint16_t host_port;                  /* 0 when the Host header has none */
	bool has_auth;                       /* Authorization */
	char auth_scheme[HTTP_SCHEME_MAX + 1];
	uint16_t auth_len;
	uint8_t ncookies;                    /* Cookie names (request) */
	struct http_cookie cookies[HTTP_MAX_COOKIES];
	uint8_t nfields;                     /* form field names (form-encoded request body) */
	char fields[HTTP_MAX_FORM_FIELDS][HTTP_FORM_NAME_MAX + 1];
	bool password_field;                 /* a field name that looks like a password */
	/* Both. */
	char content_type[HTTP_CT_MAX + 1];
	bool has_length, chunked;
	uint64_t content_length;
	/* The response. */
	uint16_t status;
	bool has_location;
	char location[HTTP_LOCATION_MAX + 1];
	bool location_truncated;
	uint8_t nsetcookies;
	struct http_cookie setcookies[HTTP_MAX_COOKIES];
	bool has_hsts;
	char hsts[HTTP_HSTS_MAX + 1];
	bool login_form;                     /* the body opens with a form with a password input */
	uint32_t body_seen;                  /* body bytes looked at */
};

/* Parses one head at data/len (a request when !response). On HTTP_OK *head_len is the
 * length of the head with its empty line. Request fields of a response are left as
 * they were (the caller copies the request in). */
int dec_http_head(const uint8_t *data, size_t len, bool response, struct http_msg *m, size_t *head_len);

/* One chunk at data/len (RFC 9112 7.1: size line, data, CRLF; or the last chunk with
 * its trailers): HTTP_OK with *used bytes and *last, HTTP_MORE, or HTTP_ERR_CHUNK. */
int dec_http_chunk(const uint8_t *data, size_t len, size_t *used, bool *last);
/* Walks a chunked body at data/len: HTTP_OK with *body_len (chunks, last chunk and
 * trailers), HTTP_MORE, or HTTP_ERR_CHUNK. */
int dec_http_chunked_len(const uint8_t *data, size_t len, size_t *body_len);

/* Looks at the first bytes of a response body (at most HTTP_BODY_SCAN): sets
 * m->login_form when a <form> and a password input appear. */
void dec_http_scan_body(const uint8_t *data, size_t len, struct http_msg *m);
/* Reads field names from the first bytes of a form-encoded request body. */
void dec_http_scan_form(const uint8_t *data, size_t len, struct http_msg *m);

/* The host of an absolute http(s) URL into out (lower case, no port); returns the
 * scheme length ("http" = 4, "https" = 5) or 0 when url is not such a URL. */
int dec_http_url_host(const char *url, char *out, size_t cap);

#endif
