// glibc-x86_64
/* fopen of a relative path: glibc x86_64 passes AT_FDCWD to openat as a 32-bit -100
 * (`mov $-100,%edi`, upper half zero), which the kernel reads as an int. */
#include <stdio.h>

int main(void) {
    const char *name = "abi_fopen.tmp";
    FILE *f = fopen(name, "w");
    if (!f) {
        perror("fopen w");
        return 1;
    }
    fputs("relative fopen works\n", f);
    fclose(f);
    char line[64] = {0};
    f = fopen(name, "r");
    if (!f) {
        perror("fopen r");
        return 2;
    }
    if (!fgets(line, sizeof line, f))
        return 3;
    fclose(f);
    fputs(line, stdout);
    if (remove(name) != 0) {
        perror("remove");
        return 4;
    }
    puts("removed");
    return 0;
}
