/*
 * PushT on Chipmunk 7 itself (Debian's libchipmunk-dev): the scene the original pusht_env.py builds through
 * pymunk, stepped the way its step() does. The tests compile this with gcc and compare our simulator to it.
 *
 * Input (stdin, whitespace-separated, any number of scenarios until EOF):
 *   agent_x agent_y block_x block_y block_angle n  x_1 y_1 ... x_n y_n
 * Output (stdout), per scenario: n + 1 lines "s agent_x agent_y block_x block_y block_angle" (after the reset
 * substep, then after each action). With --contacts, each substep also prints the shape pairs the solver
 * iterates over, in the solver's order: "c STEP SUBSTEP PAIR...", where a pair is "AB" (agent-bar), "AS"
 * (agent-stem), "WiB" or "WiS" (wall i, 0-3 in creation order, against bar or stem); STEP 0 is the reset substep.
 */
#include <chipmunk/chipmunk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *shape_name(cpShape *shape) { return (const char *)cpShapeGetUserData(shape); }

static char contact_line[256];

/* Post-solve callbacks run once per arbiter in the order the solver iterates them. */
static void record_pair(cpArbiter *arb, cpSpace *space, cpDataPointer data)
{
    (void)space;
    (void)data;
    CP_ARBITER_GET_SHAPES(arb, a, b);
    const char *na = shape_name(a), *nb = shape_name(b);
    /* Name the pair with the agent or the wall first, the block's rectangle second. */
    if (na[0] == 'B' || na[0] == 'S') {
        const char *t = na;
        na = nb;
        nb = t;
    }
    strcat(contact_line, " ");
    strcat(contact_line, na);
    strcat(contact_line, nb);
}

typedef struct Scene {
    cpSpace *space;
    cpBody *agent;
    cpBody *block;
    cpShape *shapes[7];
} Scene;

static void scene_build(Scene *s)
{
    /* pusht_env._setup: the order of creation fixes Chipmunk's shape ids, hence its broad-phase order. */
    s->space = cpSpaceNew();
    cpSpaceSetGravity(s->space, cpvzero);
    cpSpaceSetDamping(s->space, 0.0);

    static const cpVect wall_ends[4][2] = {
        {{5, 506}, {5, 5}}, {{5, 5}, {506, 5}}, {{506, 5}, {506, 506}}, {{5, 506}, {506, 506}}};
    static const char *wall_names[4] = {"W0", "W1", "W2", "W3"};
    cpBody *ground = cpSpaceGetStaticBody(s->space);
    for (int i = 0; i < 4; i++) {
        cpShape *wall = cpSegmentShapeNew(ground, wall_ends[i][0], wall_ends[i][1], 2.0);
        cpShapeSetUserData(wall, (cpDataPointer)wall_names[i]);
        s->shapes[i] = wall;
    }
    for (int i = 0; i < 4; i++) cpSpaceAddShape(s->space, s->shapes[i]);

    /* add_circle((256, 400), 15): a kinematic body. */
    s->agent = cpBodyNewKinematic();
    cpBodySetPosition(s->agent, cpv(256, 400));
    cpShape *circle = cpCircleShapeNew(s->agent, 15.0, cpvzero);
    cpShapeSetUserData(circle, (cpDataPointer) "A");
    cpSpaceAddBody(s->space, s->agent);
    cpSpaceAddShape(s->space, circle);
    s->shapes[4] = circle;

    /* add_tee((256, 300), 0): scale 30, mass 1, moment = the bar's polygon moment taken twice (as the original). */
    const cpVect bar[4] = {{-60, 30}, {60, 30}, {60, 0}, {-60, 0}};
    const cpVect stem[4] = {{-15, 30}, {-15, 120}, {15, 120}, {15, 30}};
    cpFloat moment = cpMomentForPoly(1.0, 4, bar, cpvzero, 0.0);
    s->block = cpBodyNew(1.0, moment + moment);
    cpShape *bar_shape = cpPolyShapeNew(s->block, 4, bar, cpTransformIdentity, 0.0);
    cpShape *stem_shape = cpPolyShapeNew(s->block, 4, stem, cpTransformIdentity, 0.0);
    cpShapeSetUserData(bar_shape, (cpDataPointer) "B");
    cpShapeSetUserData(stem_shape, (cpDataPointer) "S");
    cpBodySetCenterOfGravity(s->block, cpvmult(cpvadd(cpShapeGetCenterOfGravity(bar_shape), cpShapeGetCenterOfGravity(stem_shape)), 0.5));
    cpBodySetPosition(s->block, cpv(256, 300));
    cpBodySetAngle(s->block, 0.0);
    cpSpaceAddBody(s->space, s->block);
    cpSpaceAddShape(s->space, bar_shape);
    cpSpaceAddShape(s->space, stem_shape);
    s->shapes[5] = bar_shape;
    s->shapes[6] = stem_shape;

    cpCollisionHandler *handler = cpSpaceAddCollisionHandler(s->space, 0, 0);
    handler->postSolveFunc = record_pair;
}

static void scene_free(Scene *s)
{
    for (int i = 0; i < 7; i++) {
        cpSpaceRemoveShape(s->space, s->shapes[i]);
        cpShapeFree(s->shapes[i]);
    }
    cpSpaceRemoveBody(s->space, s->agent);
    cpSpaceRemoveBody(s->space, s->block);
    cpBodyFree(s->agent);
    cpBodyFree(s->block);
    cpSpaceFree(s->space);
}

static void substep(Scene *s, int contacts, int step, int sub)
{
    contact_line[0] = '\0';
    cpSpaceStep(s->space, 0.01);
    if (contacts) printf("c %d %d%s\n", step, sub, contact_line);
}

static void print_state(Scene *s)
{
    cpVect a = cpBodyGetPosition(s->agent);
    cpVect b = cpBodyGetPosition(s->block);
    printf("s %.17g %.17g %.17g %.17g %.17g\n", a.x, a.y, b.x, b.y, cpBodyGetAngle(s->block));
}

int main(int argc, char **argv)
{
    int contacts = argc > 1 && strcmp(argv[1], "--contacts") == 0;
    double st[5];
    int n;
    while (scanf("%lf %lf %lf %lf %lf %d", &st[0], &st[1], &st[2], &st[3], &st[4], &n) == 6) {
        Scene s;
        scene_build(&s);
        /* _set_state, legacy order: agent position, block position, then block angle; then one substep. */
        cpBodySetPosition(s.agent, cpv(st[0], st[1]));
        cpBodySetPosition(s.block, cpv(st[2], st[3]));
        cpBodySetAngle(s.block, st[4]);
        substep(&s, contacts, 0, 0);
        print_state(&s);
        for (int k = 1; k <= n; k++) {
            double x, y;
            if (scanf("%lf %lf", &x, &y) != 2) {
                fprintf(stderr, "pusht_chipmunk: scenario cut short at action %d\n", k);
                return 2;
            }
            for (int i = 0; i < 10; i++) {
                /* The PD controller of pusht_env.step: k_p 100, k_v 20, velocity updated by acc * dt. */
                cpVect p = cpBodyGetPosition(s.agent);
                cpVect v = cpBodyGetVelocity(s.agent);
                cpVect acc = cpvadd(cpvmult(cpvsub(cpv(x, y), p), 100.0), cpvmult(cpvsub(cpvzero, v), 20.0));
                cpBodySetVelocity(s.agent, cpvadd(v, cpvmult(acc, 0.01)));
                substep(&s, contacts, k, i);
            }
            print_state(&s);
        }
        scene_free(&s);
        fflush(stdout);
    }
    return 0;
}
