/* SPDX-License-Identifier: MIT */
/* Internal interface of the bo module for the file module. */
#ifndef SHWS_SRC_BO_H
#define SHWS_SRC_BO_H

struct shws_file;

/* Creates @file's handle and name tables (file->bos). Called once, before
 * the file is visible to other threads. Returns 0 or -ENOMEM. */
int shws_bo_file_init(struct shws_file *file);

/* Frees them. Live bos hold a reference on their file, so none is left
 * here unless the file was inherited through fork() (then the parent's
 * handles are simply forgotten, never closed). NULL-safe on file->bos. */
void shws_bo_file_fini(struct shws_file *file);

#endif
