/* loads-broker: not yet. */
#include <stdio.h>

int main(void);
int main(void)
{
    fprintf(stderr, "loads-broker: not yet\n");
    return 2;
}
