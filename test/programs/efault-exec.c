/*
 * strace's own test case (test/root/unreadable.test.ts): an exec whose argv holds a pointer that cannot be
 * read ({"a", "", (char *)-1, "d"}) and the same in envp; the kernel fails it with EFAULT. Built by
 * scripts/build-native.sh with the helper's compiler (a cross compiler for a kernel-matrix guest of another
 * arch, whose root has no compiler).
 */
#include <unistd.h>

int main(void)
{
	char *argv[] = {"a", "", (char *)-1, "d", 0};
	char *envp[] = {"X=1", (char *)-1, 0};

	execve("/bin/true", argv, envp);
	return 0;
}
