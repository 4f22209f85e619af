import { copyLayers, stackedInitMap, studentInitMap } from './weight-copy';

describe('copyLayers', () => {
  it('follows the forward map by default (12→3: 4, 8, 12)', () => {
    expect(copyLayers(12, 3)).toEqual([4, 8, 12]);
    expect(copyLayers(12, 6)).toEqual([2, 4, 6, 8, 10, 12]);
  });

  it('takes an explicit list (T5 reference: 1, 7, 12) and validates it', () => {
    expect(copyLayers(12, 3, [1, 7, 12])).toEqual([1, 7, 12]);
    expect(() => copyLayers(12, 3, [1, 7])).toThrow('copyLayers has 2 entries but studentLayers is 3');
    expect(() => copyLayers(12, 3, [0, 4, 9])).toThrow('copyLayers[0] = 0 is not a teacher layer: must be an integer in 1..12');
    expect(() => copyLayers(3, 12)).toThrow('studentLayers (12) is deeper than teacherLayers (3)');
  });
});

describe('studentInitMap', () => {
  const layer = (i: number) => [`bert.encoder.layer.${i}.attention.self.query.weight`, `bert.encoder.layer.${i}.output.LayerNorm.bias`];
  const student = [
    'bert.embeddings.word_embeddings.weight',
    'bert.embeddings.position_embeddings.weight',
    'bert.embeddings.token_type_embeddings.weight',
    'bert.embeddings.LayerNorm.weight',
    ...layer(0),
    ...layer(1),
    ...layer(2),
    'bert.pooler.dense.weight',
    'classifier.weight',
    'classifier.bias',
  ];

  it('copies embeddings and pooler, maps layer i to teacher layer copyLayers[i]-1, leaves the classifier out', () => {
    expect(studentInitMap(student, { teacherLayers: 12, studentLayers: 3 })).toEqual({
      'bert.embeddings.word_embeddings.weight': 'bert.embeddings.word_embeddings.weight',
      'bert.embeddings.position_embeddings.weight': 'bert.embeddings.position_embeddings.weight',
      'bert.embeddings.token_type_embeddings.weight': 'bert.embeddings.token_type_embeddings.weight',
      'bert.embeddings.LayerNorm.weight': 'bert.embeddings.LayerNorm.weight',
      'bert.encoder.layer.0.attention.self.query.weight': 'bert.encoder.layer.3.attention.self.query.weight',
      'bert.encoder.layer.0.output.LayerNorm.bias': 'bert.encoder.layer.3.output.LayerNorm.bias',
      'bert.encoder.layer.1.attention.self.query.weight': 'bert.encoder.layer.7.attention.self.query.weight',
      'bert.encoder.layer.1.output.LayerNorm.bias': 'bert.encoder.layer.7.output.LayerNorm.bias',
      'bert.encoder.layer.2.attention.self.query.weight': 'bert.encoder.layer.11.attention.self.query.weight',
      'bert.encoder.layer.2.output.LayerNorm.bias': 'bert.encoder.layer.11.output.LayerNorm.bias',
      'bert.pooler.dense.weight': 'bert.pooler.dense.weight',
    });
  });

  it('honours copyLayers', () => {
    const map = studentInitMap(student, { teacherLayers: 12, studentLayers: 3, copyLayers: [1, 7, 12] });
    expect(map['bert.encoder.layer.0.attention.self.query.weight']).toBe('bert.encoder.layer.0.attention.self.query.weight');
    expect(map['bert.encoder.layer.1.attention.self.query.weight']).toBe('bert.encoder.layer.6.attention.self.query.weight');
  });

  it('rejects unknown names and layers beyond the student depth', () => {
    expect(() => studentInitMap(['lm_head.weight'], { teacherLayers: 12, studentLayers: 3 })).toThrow(
      "studentInitMap: parameter 'lm_head.weight' is not a BERT-style name",
    );
    expect(() => studentInitMap(layer(3), { teacherLayers: 12, studentLayers: 3 })).toThrow('is in student layer 3 but studentLayers is 3');
  });
});

describe('stackedInitMap (encoder-decoder and decoder-only students)', () => {
  it('maps each stack by its own forward map and copies everything else by name', () => {
    const names = ['model.shared.weight', 'model.encoder.embed_positions.weight', 'model.encoder.layers.0.fc1.weight', 'model.encoder.layers.2.self_attn.q_proj.bias',
      'model.decoder.layers.1.encoder_attn.k_proj.weight', 'model.decoder.layernorm_embedding.bias'];
    const map = stackedInitMap(names, [
      { prefix: 'model.encoder.layers.', teacherLayers: 12, studentLayers: 3 },
      { prefix: 'model.decoder.layers.', teacherLayers: 12, studentLayers: 3, copyLayers: [1, 7, 12] },
    ]);
    expect(map).toEqual({
      'model.shared.weight': 'model.shared.weight',
      'model.encoder.embed_positions.weight': 'model.encoder.embed_positions.weight',
      'model.encoder.layers.0.fc1.weight': 'model.encoder.layers.3.fc1.weight',
      'model.encoder.layers.2.self_attn.q_proj.bias': 'model.encoder.layers.11.self_attn.q_proj.bias',
      'model.decoder.layers.1.encoder_attn.k_proj.weight': 'model.decoder.layers.6.encoder_attn.k_proj.weight',
      'model.decoder.layernorm_embedding.bias': 'model.decoder.layernorm_embedding.bias',
    });
    expect(() => stackedInitMap(['model.layers.3.mlp.up_proj.weight'], [{ prefix: 'model.layers.', teacherLayers: 8, studentLayers: 2 }])).toThrow(
      "stackedInitMap: parameter 'model.layers.3.mlp.up_proj.weight' is in student layer 3 but the stack has 2 layers (0-based names 0..1)",
    );
  });
});
