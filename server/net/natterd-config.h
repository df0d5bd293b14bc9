/* natterd-config.h: every setting of natterd, from defaults, the config
 * file (a GKeyFile) and the command line, in that order of precedence.
 * docs/server.md and data/natterd.conf.example list each key and default.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* [server] registration: who may create an account. */
typedef enum {
  NATTERD_REGISTRATION_OPEN,    /* anyone who can reach the server (the contract's default) */
  NATTERD_REGISTRATION_CLOSED,  /* nobody: register answers registration_closed */
  NATTERD_REGISTRATION_INVITE,  /* whoever brings a valid invitation code (natterctl invite) */
} NatterdRegistration;

/* "open", "closed", "invite"; the config file's older "true" and "false"
 * are open and closed. FALSE for anything else. */
gboolean    natterd_registration_from_string (const char          *text,
                                              NatterdRegistration *out);
const char *natterd_registration_to_string   (NatterdRegistration  mode);

typedef struct {
  /* [server] */
  char    **listen;              /* "HOST:PORT" entries; default "*:7447": every address, IPv6 and IPv4 */
  char     *data_dir;            /* default: $STATE_DIRECTORY, else g_get_user_data_dir()/natterd */
  gboolean  tls;                 /* default TRUE */
  char     *tls_cert;            /* PEM; NULL: self-signed, made in data_dir */
  char     *tls_key;
  NatterdRegistration registration; /* default OPEN; natterctl registration changes it at run time */
  guint     token_lifetime_days; /* default 30 */
  guint     hash_threads;        /* argon2id worker threads; default: number of CPUs */
  guint     send_threads;        /* threads making a fan-out's sendmsg calls, the main loop included; default: 2 (1 on one CPU) */
  gboolean  files;               /* offer the feature files; default FALSE until sending files lands (issue 15) */
  char     *metrics;             /* "HOST:PORT" of the Prometheus metrics over HTTP; NULL (default): off */

  /* [limits] */
  gsize     max_frame;                           /* 65536 bytes, '\n' included */
  guint     frames_per_second;                   /* 200 */
  guint     frame_burst;                         /* 2000 */
  guint     connections_per_address;             /* 64 */
  guint     registrations_per_hour_per_address;  /* 20 */
  guint     failed_logins_per_minute_per_address;/* 20 */
  guint     failed_logins_per_minute_per_user;   /* 5 */
  guint     hash_queue_per_thread;               /* 32 logins/registrations waiting per hash thread */
  gsize     output_queue_bytes;                  /* 8 MiB */
  guint     handshake_timeout;                   /* 10 s: connect to welcome (TLS handshake) */
  guint     login_timeout;                       /* 30 s */
  guint     idle_timeout;                        /* 120 s */
  guint     messages_per_minute_per_user;        /* 6000; sends past it: rate_limited */
  /* Feature files (docs/protocol.md, "Files"), checked at upload_begin. */
  gsize     max_file_bytes;                      /* 100 MiB */
  gsize     quota_bytes_per_user;                /* 1 GiB */
  guint     uploads_per_user;                    /* 8 uploads in progress */
  guint     upload_expiry;                       /* 86400 s after an upload's last chunk */
  /* Feature accounts: users one user may block (docs/protocol.md, "Blocking"). */
  guint     blocks_per_user;                     /* 1000; past it: conflict */

  /* [storage] */
  gboolean  synchronous_full;    /* "full" (default) or "normal" */
  char     *database;            /* "sqlite" (default: natter.db in data_dir) or a PostgreSQL
                                  * connection string; may hold a password: never printed */
  char     *password_file;       /* the database password, first line; NULL: none */

  /* [cluster] */
  char     *bus;                 /* the Redis bus, "redis://HOST:PORT" or "unix:PATH"; NULL: a single node */
  char     *node_name;           /* this node's name on the bus; NULL: host name and listening port */
  guint     directory_refresh_ms;/* 30000: how often a node on a shared database reads the
                                  * directory again (natterd-directory-refresh.h); 1 or more:
                                  * a node that never read it would keep what other nodes
                                  * changed while the bus was down unknown for good */

  /* Not a setting: --import-sqlite FILE, a SQLite database to copy into
   * the PostgreSQL database, after which natterd exits. NULL: serve. */
  char     *import_sqlite;
} NatterdConfig;

NatterdConfig *natterd_config_new_defaults (void);
/* Parses the command line (and the --config file it names) into a config.
 * Returns NULL with an error for a bad option or file (a file's errors
 * begin "FILE:LINE: "; a key it does not know is one); sets *out_exit when
 * the process should just exit 0 (--help, --version). */
NatterdConfig *natterd_config_from_args    (int        *argc,
                                            char     ***argv,
                                            gboolean   *out_exit,
                                            GError    **error);
gboolean       natterd_config_load_file    (NatterdConfig *self,
                                            const char    *path,
                                            GError       **error);
void           natterd_config_free         (NatterdConfig *self);
/* Splits a listen entry, "HOST:PORT", "[IPV6]:PORT" or "*:PORT" (every
 * address); port 0 lets the kernel pick. Either out may be NULL. */
gboolean       natterd_config_parse_listen (const char    *entry,
                                            char         **out_host,
                                            guint16       *out_port,
                                            GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatterdConfig, natterd_config_free)

/* The features (protocol/natter-features.h) this server offers, as a
 * mask: every one, on a single node and on a cluster (message actions
 * cross the bus, docs/cluster.md). The place to hold one back that a
 * configuration cannot serve. */
guint natterd_config_features_offered (const NatterdConfig *config);

G_END_DECLS
