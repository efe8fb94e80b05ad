/* SysV shared memory: shmget, shmat at NULL and at a chosen address, two attachments of
 * one segment see each other's stores, the maps line, shmctl(IPC_STAT, IPC_RMID), shmdt,
 * and errors (bad id, unaligned address, shmdt of a non-attachment). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>

static const char *name(int e) {
    switch (e) {
    case EINVAL: return "EINVAL";
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case EACCES: return "EACCES";
    case EIDRM: return "EIDRM";
    default: return "other";
    }
}

int main(void) {
    long page = 4096;
    int id = shmget(IPC_PRIVATE, 3 * page, IPC_CREAT | 0600);
    if (id < 0) { printf("shmget: %s\n", name(errno)); return 1; }
    char *a = shmat(id, NULL, 0);
    if (a == (void *)-1) { printf("shmat: %s\n", name(errno)); return 1; }
    printf("zeroed: %d\n", a[0] == 0 && a[3 * page - 1] == 0);
    strcpy(a + 100, "shared");
    /* a fixed, suitably aligned address: a free spot found with mmap */
    char *spot = mmap(NULL, 64 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(spot, 64 * page);
    char *want = (char *)(((uintptr_t)spot + 16 * page - 1) & ~(uintptr_t)(SHMLBA - 1));
    /* qemu-user 7.2 cannot attach 32-bit guests' segments at a given address */
    char *b = sizeof(long) == 8 ? shmat(id, want, SHM_RDONLY) : shmat(id, NULL, SHM_RDONLY);
    if (b == (void *)-1) { printf("second shmat: %s\n", name(errno)); return 1; }
    if (sizeof(long) == 8) printf("fixed: %s\n", b == want ? "at the address" : "elsewhere");
    printf("second attachment sees: %s\n", b + 100);
    strcpy(a + 200, "again");
    printf("and later stores: %s\n", b + 200);
    struct shmid_ds ds;
    memset(&ds, 0, sizeof ds);
    printf("stat: %d\n", shmctl(id, IPC_STAT, &ds));
#ifndef __x86_64__ /* qemu-user 7.2 leaves musl's (IPC_64) result unfilled */
    printf("size %ld attached %ld mode %o\n", (long)ds.shm_segsz, (long)ds.shm_nattch,
           (unsigned)ds.shm_perm.mode & 0777);
#endif
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512];
    int lines = 0;
    while (fgets(line, sizeof line, maps))
        if (strstr(line, "/SYSV00000000")) lines++;
    fclose(maps);
    printf("maps lines: %d\n", lines);
    printf("shmdt b: %d\n", shmdt(b));
    printf("shmdt b again: %s\n", shmdt(b) ? name(errno) : "ok");
    printf("shmdt inside a: %s\n", shmdt(a + page) ? name(errno) : "ok");
    printf("rmid: %d\n", shmctl(id, IPC_RMID, NULL));
    printf("still usable: %s\n", a + 100);
    printf("shmdt a: %d\n", shmdt(a));
    printf("attach removed: %s\n", shmat(id, NULL, 0) == (void *)-1 ? name(errno) : "ok");
    printf("bad id: %s\n", shmat(-5, NULL, 0) == (void *)-1 ? name(errno) : "ok");
    int id2 = shmget(IPC_PRIVATE, page, IPC_CREAT | 0600);
    printf("unaligned: %s\n", shmat(id2, spot + 1, 0) == (void *)-1 ? name(errno) : "ok");
    printf("get missing key: %s\n", shmget(0x51ee9, page, 0) < 0 ? name(errno) : "ok");
    printf("size 0: %s\n", shmget(IPC_PRIVATE, 0, IPC_CREAT | 0600) < 0 ? name(errno) : "ok");
    shmctl(id2, IPC_RMID, NULL);
    return 0;
}
