/* issuer.h - what the command line needs from the issuer detector. */
#ifndef ONPATH_DET_ISSUER_H
#define ONPATH_DET_ISSUER_H

/* Adds a PEM file of enterprise CAs (--ca-file, repeatable) to the trust store of every
 * later det_registry_new (on top of tls.ca_files). path is borrowed for the life of the
 * process (argv). Returns 0, or -1 when more than 32 were given. */
int det_issuer_add_ca_file(const char *path);

#endif
