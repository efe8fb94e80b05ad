/* A thread calls exit() (exit_group) while the others run: a spinning thread and main,
 * blocked in pthread_join. The process ends with the thread's status. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile int spin = 1;

static void say(const char *s) { write(1, s, strlen(s)); }

static void *spinner(void *arg) {
    (void)arg;
    while (spin)
        ;
    say("spinner stopped (wrong)\n");
    return NULL;
}

static void *ender(void *arg) {
    (void)arg;
    usleep(5000);
    say("ender: exit(3)\n");
    exit(3);
}

int main(void) {
    pthread_t a, b;
    pthread_create(&a, NULL, spinner, NULL);
    pthread_create(&b, NULL, ender, NULL);
    say("main: joining the spinner\n");
    pthread_join(a, NULL);
    say("main: joined (wrong)\n");
    return 0;
}
