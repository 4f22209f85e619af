import { colorAt, COLOR_SCALE_STOPS } from './color';

describe('colorAt', () => {
  it('hits the stops at 0, 0.5 and 1 and clamps outside', () => {
    expect(colorAt('diverging', 0)).toBe('#2166ac');
    expect(colorAt('diverging', 0.5)).toBe('#f7f7f7');
    expect(colorAt('diverging', 1)).toBe('#b2182b');
    expect(colorAt('sequential', -3)).toBe(COLOR_SCALE_STOPS.sequential[0]);
    expect(colorAt('sequential', 7)).toBe('#08306b');
  });
  it('interpolates linearly in RGB between stops', () => {
    // halfway between #2166ac and #f7f7f7: (33+247)/2 = 140 = 0x8c, (102+247)/2 = 174.5 → 175 = 0xaf, (172+247)/2 = 209.5 → 210 = 0xd2
    expect(colorAt('diverging', 0.25)).toBe('#8cafd2');
  });
});
