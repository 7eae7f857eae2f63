/* SPDX-License-Identifier: GPL-2.0 */
/* Exit statuses, as the README ("Commands") documents them: every command
 * and the daemon return these. */
#ifndef MXG_EXITCODE_H
#define MXG_EXITCODE_H

#define EXIT_OK		0
#define EXIT_RUNTIME	1	/* something failed at run time */
#define EXIT_USAGE	2	/* bad usage or configuration */

#endif
