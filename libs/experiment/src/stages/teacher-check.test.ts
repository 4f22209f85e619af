import { majorityBaseline, teacherChanceWarning } from './teacher-check';

// SST-2's dev split: 428 positive (1), 444 negative (0) of 872; its training split is 56% positive.
const sst2Dev = [...Array<number>(444).fill(0), ...Array<number>(428).fill(1)];
const sst2Train = [...Array<number>(440).fill(0), ...Array<number>(560).fill(1)];

describe('teacher chance check', () => {
  it('takes the majority label of the training set and scores it on the evaluation labels', () => {
    expect(majorityBaseline(sst2Train, sst2Dev)).toEqual({ label: 1, accuracy: 428 / 872 });
    // A tie goes to the smaller label, whatever the order.
    expect(majorityBaseline([1, 0, 1, 0], [0, 0, 1])).toEqual({ label: 0, accuracy: 2 / 3 });
    expect(() => majorityBaseline([], [0])).toThrow('needs training and evaluation labels');
  });

  it("warns for the failed SST-2 teacher (50.92% dev) and names the baseline, its label and the teacher's losses", () => {
    const w = teacherChanceWarning({ accuracy: 444 / 872, trainLabels: sst2Train, evalLabels: sst2Dev, labelNames: ['negative', 'positive'], evalSplit: 'dev', firstLoss: 0.7123, lastLoss: 0.6931 });
    expect(w).toBe(
      "the teacher's dev accuracy 50.92% is within two standard errors (3.39 points) of always answering 'positive' (49.08% of dev): it has probably " +
        'not learned the task, and its students would be distilled from a teacher that knows nothing. Its training loss went from 0.7123 to 0.6931 ' +
        '(curve in teacher/teacher.json). Try a lower learning rate (spec.teacher.train.lr, or spec.teacher.finetune.lr for a pretrained teacher), another seed or more epochs.',
    );
  });

  it('stays quiet for a teacher clearly above the baseline (the working SST-2 teacher, 79.59%)', () => {
    expect(teacherChanceWarning({ accuracy: 0.7959, trainLabels: sst2Train, evalLabels: sst2Dev, labelNames: ['negative', 'positive'], evalSplit: 'dev' })).toBeUndefined();
    // Just past two standard errors (3.39 points over 49.08%) is enough; just short of it is not.
    expect(teacherChanceWarning({ accuracy: 0.5250, trainLabels: sst2Train, evalLabels: sst2Dev, labelNames: ['n', 'p'], evalSplit: 'dev' })).toBeUndefined();
    expect(teacherChanceWarning({ accuracy: 0.5240, trainLabels: sst2Train, evalLabels: sst2Dev, labelNames: ['n', 'p'], evalSplit: 'dev' })).toMatch(/^the teacher's dev accuracy 52\.40%/);
  });
});
