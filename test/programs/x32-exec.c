/*
 * The x32 test program (test/root/x32.test.ts): built with `gcc -mx32 -static` (Debian's libc6-dev-x32),
 * it makes its execs through the x32 ABI (syscall numbers with __X32_SYSCALL_BIT, 32-bit pointers).
 *   x32-exec [-at] PATH ARG...
 * First an exec of /nonexistent/x32 with the same argv (fails: ENOENT), then of PATH, by execve, or with
 * -at by execveat(AT_FDCWD, PATH, ..., 0).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	int at = argc > 1 && strcmp(argv[1], "-at") == 0;
	char **args = argv + 1 + at;

	if (!args[0]) {
		fprintf(stderr, "usage: x32-exec [-at] PATH ARG...\n");
		return 2;
	}
	execv("/nonexistent/x32", args);
	if (at)
		syscall(SYS_execveat, AT_FDCWD, args[0], args, environ, 0);
	else
		execv(args[0], args);
	perror("x32-exec");
	return 127;
}
