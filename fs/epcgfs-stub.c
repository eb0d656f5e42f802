// SPDX-License-Identifier: MIT
/*
 * epcg mount without libfuse: built when the 'fuse' feature is disabled
 * or libfuse3 is missing, so the command can say why it cannot mount.
 */
#include <stdio.h>

#include "epcgfs.h"

int epcgfs_main(const struct epcgfs_options *o)
{
	fprintf(stderr, "epcg: mount: this epcg was built without FUSE "
			"support (install libfuse3-dev and rebuild)\n");
	return 1;
}
