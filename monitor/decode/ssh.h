/* ssh.h - the clear-text start of an SSH connection (RFC 4253): identification
 * banners, the binary packets before NEWKEYS, KEXINIT name-lists (with hassh /
 * hasshServer) and the server host key of the key-exchange reply.
 *
 * A session (struct ssh_sess) is fed the growing contiguous prefix of each direction
 * of a TCP flow (monitor/app.h) and calls back once per banner, per KEXINIT and for the
 * server host key, with a struct ssh_msg describing everything seen so far. It stops
 * following a direction at its NEWKEYS (everything after is encrypted), at an error,
 * or after SSH_MAX_PKTS packets.
 */
#ifndef ONPATH_DEC_SSH_H
#define ONPATH_DEC_SSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SSH_BANNER_MAX 255          /* RFC 4253 4.2: the banner line with its CRLF */
#define SSH_PRE_LINE_MAX 1024       /* a line the server sends before its banner */
#define SSH_PRE_LINES_MAX 32        /* such lines (OpenSSH allows more; 32 is plenty) */
#define SSH_PROTO_MAX 15            /* "2.0", "1.99", "1.5" */
#define SSH_PKT_MAX 35000           /* RFC 4253 6.1: packet_length an implementation must take */
#define SSH_PAD_MIN 4               /* RFC 4253 6: at least four bytes of padding */
#define SSH_MAX_PKTS 32             /* clear packets followed per direction */
#define SSH_NL_COUNT 10             /* name-lists of a KEXINIT (RFC 4253 7.1) */
#define SSH_NL_MAX 1023             /* bytes of one name-list kept (the hash covers all) */
#define SSH_NAME_MAX 64             /* RFC 4251 6: algorithm names are at most 64 characters */
#define SSH_FP_STRLEN 51            /* "SHA256:" + 43 base64 characters + NUL */

/* RFC 4253 12 / RFC 4419 / RFC 5656 message numbers seen before NEWKEYS. */
#define SSH_MSG_DISCONNECT 1
#define SSH_MSG_KEXINIT 20
#define SSH_MSG_NEWKEYS 21
#define SSH_MSG_KEXDH_REPLY 31       /* also KEX_ECDH_REPLY, and KEX_DH_GEX_GROUP */
#define SSH_MSG_KEX_DH_GEX_REPLY 33

enum ssh_nl {
	SSH_NL_KEX = 0, SSH_NL_HOSTKEY, SSH_NL_ENC_CS, SSH_NL_ENC_SC, SSH_NL_MAC_CS, SSH_NL_MAC_SC,
	SSH_NL_CMP_CS, SSH_NL_CMP_SC, SSH_NL_LANG_CS, SSH_NL_LANG_SC
};

enum ssh_err {
	SSH_OK = 0,
	SSH_ERR_NOT_SSH,        /* the first bytes are not an SSH identification */
	SSH_ERR_LINE_LONG,      /* a line past SSH_BANNER_MAX / SSH_PRE_LINE_MAX */
	SSH_ERR_LINE_NUL,       /* a NUL in a line */
	SSH_ERR_PRE_LINES,      /* more than SSH_PRE_LINES_MAX lines before the banner */
	SSH_ERR_BANNER,         /* "SSH-" line without protoversion-softwareversion */
	SSH_ERR_PKT_LEN,        /* packet_length past SSH_PKT_MAX or below its padding */
	SSH_ERR_PADDING,        /* padding_length below 4 or the total not a multiple of 8 */
	SSH_ERR_NAMELIST,       /* a name-list past its packet, with a NUL or a bad name */
	SSH_ERR_KEXINIT,        /* KEXINIT too short */
	SSH_ERR_KEX_REPLY,      /* a server key-exchange reply whose K_S is not a key blob */
	SSH_ERR__COUNT
};
const char *dec_ssh_strerror(int err);

struct ssh_banner {
	bool present;
	uint8_t pre_lines;                   /* lines the server sent before it */
	char proto[SSH_PROTO_MAX + 1];       /* protoversion: "2.0", "1.99", ... */
	char software[SSH_BANNER_MAX + 1];   /* softwareversion */
	char comments[SSH_BANNER_MAX + 1];   /* after the first space, may be "" */
};

struct ssh_kexinit {
	bool present;
	bool truncated;                      /* some list was longer than SSH_NL_MAX */
	bool first_kex_follows;
	uint8_t cookie[16];
	char list[SSH_NL_COUNT][SSH_NL_MAX + 1]; /* comma-separated, NUL-terminated */
	uint32_t wire_len[SSH_NL_COUNT];     /* length on the wire */
	char hassh[33];                      /* MD5 hex of kex;enc;mac;cmp (this side's direction) */
};

struct ssh_hostkey {
	bool present;
	uint8_t msg;                         /* 31 or 33 */
	char type[SSH_NAME_MAX + 1];         /* the blob's key type, e.g. "ssh-ed25519" */
	uint32_t blob_len;
	uint8_t sha256[32];
	char fp[SSH_FP_STRLEN];              /* OpenSSH's "SHA256:<base64 without padding>" */
};

enum ssh_step { SSH_STEP_BANNER = 1, SSH_STEP_KEXINIT, SSH_STEP_HOSTKEY };

/* What the callback gets: everything parsed so far in the connection ([0] = the
 * client's side, FLOW_DIR_ORIG; [1] = the server's) and which step just completed. */
struct ssh_msg {
	uint8_t step;                        /* enum ssh_step */
	bool from_server;                    /* the sender of this step */
	struct ssh_banner banner[2];
	struct ssh_kexinit kex[2];
	struct ssh_hostkey hostkey;          /* the server's, from its key-exchange reply */
	char kex_alg[SSH_NAME_MAX + 1];      /* negotiated (RFC 4253 7.1), "" until both KEXINITs */
};

/* Per-direction cursor. */
struct ssh_dir {
	size_t off;          /* bytes of the direction already consumed */
	uint8_t phase;       /* internal: lines, packets, stopped */
	uint8_t pre_lines;
	uint16_t npkts;
	uint8_t err;         /* enum ssh_err when stopped on an error */
	bool newkeys;        /* stopped at NEWKEYS */
};

struct ssh_sess {
	struct ssh_dir d[2];
	struct ssh_msg msg;
};

void dec_ssh_init(struct ssh_sess *s);
/* Callback for each completed step; return non-zero to stop the whole session. */
typedef int (*ssh_step_fn)(void *ud, const struct ssh_msg *m);
/* Feeds the contiguous prefix data/len (everything from the start) of direction dir
 * (0 = client, 1 = server). Returns SSH_OK while the direction goes on or stopped
 * cleanly (NEWKEYS, packet cap), or the error that stopped it. */
int dec_ssh_feed(struct ssh_sess *s, int dir, const uint8_t *data, size_t len, ssh_step_fn fn,
		 void *ud);
/* True when the direction will not be parsed further. */
bool dec_ssh_dir_done(const struct ssh_sess *s, int dir);
/* Stops a direction (its stream ended: FIN, gap, budget). */
void dec_ssh_dir_stop(struct ssh_sess *s, int dir);

/* The pieces, for tests and fuzzing. */
/* One identification line without its line end. */
int dec_ssh_banner(const uint8_t *line, size_t len, struct ssh_banner *b);
/* The payload of a KEXINIT packet (from the message number on); from_server selects
 * which direction's lists form the hassh (hasshServer: the server-to-client ones). */
int dec_ssh_kexinit(const uint8_t *payload, size_t len, bool from_server, struct ssh_kexinit *k);
/* The payload of a server key-exchange reply (31 or 33): K_S, the host key blob. */
int dec_ssh_kex_reply(const uint8_t *payload, size_t len, struct ssh_hostkey *h);
/* True when the comma-separated list holds exactly the name. */
bool dec_ssh_list_has(const char *list, const char *name);

#endif
