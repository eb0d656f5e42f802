// SPDX-License-Identifier: MIT
/*
 * The daemon's request layer without the daemon: the state `epcg mount`
 * builds (misc controller, cgroup tree, a live execution context with
 * ksgxd and the reclaim workers, the software EPC, the control state with
 * its enclave table and test-hook records), minus the FUSE mount, the
 * control socket and its threads, the exit watcher and the metrics.
 *
 * It exists so that tests and fuzz targets can run the requests a client
 * sends (epcgfs_conn_open(), epcgfs_conn_request()) in their own process,
 * under a sanitizer and the allocation failure injector, and check the
 * machine between two requests.  It is built by the same set-up steps as
 * the mounted daemon (epcgfs_setup_tree(), epcgfs_setup_epc() in
 * epcgfs.c) and torn down by the same teardown, so what it runs is what
 * the daemon runs; only where requests come from differs.
 *
 * Locks: none of its own.  The caller runs each connection's requests
 * one at a time, as the connection's thread would.
 */
#include <errno.h>
#include <stdlib.h>

#include "epcgfs-internal.h"
#include "util/alloc.h"

int epcgfs_core_create(const struct epcgfs_options *o, struct epcgfs **ret)
{
	struct epcgfs *fs = epcg_calloc(1, sizeof(*fs));
	int err;

	if (!fs)
		return -ENOMEM;
	err = epcgfs_setup_tree(fs, o);
	if (!err)
		err = epcgfs_setup_epc(fs);
	if (!err)
		err = epcgfs_ctl_create_local(fs, &fs->ctl);
	if (err) {
		epcgfs_core_destroy(fs);
		return err;
	}
	*ret = fs;
	return 0;
}

void epcgfs_core_destroy(struct epcgfs *fs)
{
	if (!fs)
		return;
	epcgfs_teardown(fs);
	free(fs);
}
